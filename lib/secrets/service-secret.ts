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
export async function loadServiceSecret({ refresh = false } = {}): Promise<ServiceSecret> {
  let raw: unknown;
  try {
    raw = await getSecret(secretId(), {
      maxAge: secretCacheSeconds(),
      forceFetch: refresh,
      transform: 'json',
    });
  } catch (cause) {
    throw new ServiceSecretError(
      `The service's secret could not be read: ${(cause as Error).name}`,
      { cause },
    );
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
