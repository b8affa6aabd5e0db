/**
 * The service's one secret in AWS Secrets Manager: the ngrok API key, the HTTP callers (name,
 * SHA-256 of their bearer token, scopes) and the Slack settings. Loaded with Powertools
 * Parameters' `getSecret`, cached per container for SECRET_CACHE_SECONDS.
 *
 * @example
 * {
 *   "ngrok_api_key": "2AbC…",
 *   "callers": [{ "name": "ci", "token_sha256": "9f86d0…", "scopes": ["read", "write"] }],
 *   "slack": { "signing_secret": "8f14e4…", "team_ids": ["T024BE7LD"], "allowed_user_ids": ["U024BE7LH"] }
 * }
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod/mini';
import { secretCacheSeconds, secretId } from '../config.ts';
import { registerSecretValue } from '../observability/redact.ts';

export const SCOPES = ['read', 'write'] as const;
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

/**
 * The service's secret, from the container's cache while it is fresh.
 * `refresh: true` reads it again (after ngrok refused the key: it may have been rotated).
 */
export async function loadServiceSecret({
  refresh = false,
  timeoutMs = READ_TIMEOUT_MS,
}: {
  refresh?: boolean;
  /** At most READ_TIMEOUT_MS: a Lambda with less time left passes what it has. */
  timeoutMs?: number;
} = {}): Promise<ServiceSecret> {
  let raw: unknown;
  let timer: NodeJS.Timeout | undefined;
  try {
    // Secrets Manager that does not answer must not hold the request past its deadline: the
    // read is given READ_TIMEOUT_MS (the SDK's own retries, e.g. after throttling, included).
    raw = await Promise.race([
      getSecret(secretId(), {
        maxAge: secretCacheSeconds(),
        forceFetch: refresh,
        transform: 'json',
      }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new SecretReadTimeout()),
          Math.max(0, Math.min(timeoutMs, READ_TIMEOUT_MS)),
        );
        timer.unref();
      }),
    ]);
  } catch (cause) {
    throw new ServiceSecretError(
      `The service's secret could not be read: ${(cause as Error).name}`,
      { cause },
    );
  } finally {
    clearTimeout(timer);
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
