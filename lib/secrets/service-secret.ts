/**
 * The service's one secret in AWS Secrets Manager: the ngrok API key, the HTTP callers (name,
 * SHA-256 of their bearer token, scopes) and the Slack settings. Read with the AWS SDK's Secrets
 * Manager client and kept per container for SECRET_CACHE_SECONDS, checked once per read.
 * Invocations that need it while it is being read wait for that read: however many arrive at
 * once, a container makes one GetSecretValue call per TTL (Powertools Parameters caches values
 * but not reads in flight: each caller before the first answer would read it again).
 *
 * @example
 * {
 *   "ngrok_api_key": "2AbC…",
 *   "callers": [{ "name": "ci", "token_sha256": "9f86d0…", "scopes": ["read", "write"] }],
 *   "slack": { "signing_secret": "8f14e4…", "team_ids": ["T024BE7LD"], "allowed_user_ids": ["U024BE7LH"] }
 * }
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { registerSecretValue } from '../observability/redact.ts';
import { settings } from '../settings.ts';

/** read: GET routes; write: the changing routes; alerts: the alert webhooks, and nothing else. */
export const SCOPES = ['read', 'write', 'alerts'] as const;
export type Scope = (typeof SCOPES)[number];

export const Caller = z.object({
  name: z.string().check(z.minLength(1)),
  token_sha256: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  scopes: z.array(z.enum(SCOPES)),
});
export type Caller = z.infer<typeof Caller>;

export const ServiceSecret = z.object({
  ngrok_api_key: z.string().check(z.minLength(1)),
  callers: z.array(Caller),
  /** The Slack command's settings; without them (or with an empty signing secret) it refuses all. */
  slack: z.optional(
    z.object({
      signing_secret: z.string(),
      /** Slack workspaces (team ids) whose users may use the command. */
      team_ids: z.array(z.string()),
      /** Slack user ids that may use the changing commands (sample, apply). */
      allowed_user_ids: z.array(z.string()),
    }),
  ),
  /** PagerDuty's webhook subscriptions: their signing secrets (several during a rotation). */
  pagerduty: z.optional(
    z.object({
      webhook_secrets: z.array(z.string().check(z.minLength(1))),
    }),
  ),
});
export type ServiceSecret = z.infer<typeof ServiceSecret>;

/** How long a read of the secret may take before the request fails (500) instead of hanging. */
export const READ_TIMEOUT_MS = 2_000;

class SecretReadTimeout extends Error {
  constructor() {
    super('Secrets Manager did not answer in time');
    this.name = 'SecretReadTimeout';
  }
}

/** The secret could not be read or is not of the documented form. Its message holds no value. */
export class ServiceSecretError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ServiceSecretError';
  }
}

let client: SecretsManagerClient | undefined;
/** The last secret read, checked, and when it is no longer fresh (ms since the epoch). */
let cached: { secretId: string; secret: ServiceSecret; expires: number } | undefined;
/** The read under way, which every caller until its answer waits for. */
let inFlight: { secretId: string; read: Promise<ServiceSecret> } | undefined;

/** Forgets the cached secret: the next call reads it again. For tests. */
export function clearServiceSecretCache(): void {
  cached = undefined;
  inFlight = undefined;
}

/** One GetSecretValue call, bounded by READ_TIMEOUT_MS, its answer checked. */
async function readServiceSecret(secretId: string): Promise<ServiceSecret> {
  client ??= new SecretsManagerClient({});
  let text: string | undefined;
  try {
    // Secrets Manager that does not answer must not hold the function past its deadline: the
    // read is given READ_TIMEOUT_MS (the SDK's own retries, e.g. after throttling, included).
    const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }), {
      abortSignal: AbortSignal.timeout(READ_TIMEOUT_MS),
    });
    text = answer.SecretString;
  } catch (cause) {
    const name =
      (cause as Error).name === 'AbortError' ? 'SecretReadTimeout' : (cause as Error).name;
    throw new ServiceSecretError(`The service's secret could not be read: ${name}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text ?? '');
  } catch {
    throw new ServiceSecretError("The service's secret is not valid at: (root) (not JSON)");
  }
  const result = ServiceSecret.safeParse(raw);
  if (!result.success) {
    // Field paths only: a message must never carry a value of the secret.
    const fields = result.error.issues.map((issue) => issue.path.join('.') || '(root)');
    throw new ServiceSecretError(
      `The service's secret is not valid at: ${[...new Set(fields)].join(', ')}`,
    );
  }
  registerSecretValue(result.data.ngrok_api_key);
  registerSecretValue(result.data.slack?.signing_secret);
  return result.data;
}

/** The read under way for this secret, or a new one, whose answer is cached when it comes. */
function sharedRead(secretId: string): Promise<ServiceSecret> {
  if (inFlight?.secretId === secretId) return inFlight.read;
  const ttlMs = settings.secretCacheSeconds() * 1000;
  const read = readServiceSecret(secretId).then(
    (secret) => {
      if (inFlight?.read === read) {
        inFlight = undefined;
        cached = { secretId, secret, expires: Date.now() + ttlMs };
      }
      return secret;
    },
    (error: unknown) => {
      if (inFlight?.read === read) inFlight = undefined;
      throw error;
    },
  );
  inFlight = { secretId, read };
  return read;
}

/**
 * The service's secret, from the container's cache while it is fresh.
 * `refresh: true` reads it again (after ngrok refused the key: it may have been rotated); a read
 * already under way is as fresh, and is waited for instead.
 */
export async function loadServiceSecret({
  refresh = false,
  timeoutMs = READ_TIMEOUT_MS,
}: {
  refresh?: boolean;
  /** At most READ_TIMEOUT_MS: a Lambda with less time left passes what it has. */
  timeoutMs?: number;
} = {}): Promise<ServiceSecret> {
  const secretId = settings.secretId();
  if (!refresh && cached?.secretId === secretId && cached.expires > Date.now()) {
    return cached.secret;
  }
  const read = sharedRead(secretId);
  const waitMs = Math.max(0, Math.min(timeoutMs, READ_TIMEOUT_MS));
  if (waitMs >= READ_TIMEOUT_MS) return read;
  // This caller has less time than the read may take: it stops waiting in time, the read goes
  // on for the others.
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      read,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ServiceSecretError("The service's secret could not be read: SecretReadTimeout", {
                cause: new SecretReadTimeout(),
              }),
            ),
          waitMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
