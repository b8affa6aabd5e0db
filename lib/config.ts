/**
 * The functions' configuration, from their environment (docs/operating.md "Configuration"). Read when
 * used, not at import, so that tests and `serverless offline` can set it per run.
 */
const DEFAULT_SECRET_CACHE_SECONDS = 300;

/** Secrets Manager name or ARN of the service's JSON secret (set by serverless.yml). */
export function secretId(): string {
  const id = process.env.SECRET_ID;
  if (!id) throw new Error('SECRET_ID is not set: it names the Secrets Manager secret to load.');
  return id;
}

/** How long a container keeps the secret before reading it again. */
export function secretCacheSeconds(): number {
  const raw = process.env.SECRET_CACHE_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_SECRET_CACHE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new Error(`SECRET_CACHE_SECONDS must be a whole number of seconds; got '${raw}'.`);
  }
  return seconds;
}

/** The base URL callers reach this API at, when it cannot be told from the request. */
export function publicBaseUrl(): string | undefined {
  return process.env.PUBLIC_BASE_URL?.replace(/\/+$/, '') || undefined;
}

/** The DynamoDB table of the `Idempotency-Key`s of POST /event-streams (set by serverless.yml). */
export function idempotencyKeysTable(): string {
  const table = process.env.IDEMPOTENCY_KEYS_TABLE;
  if (!table) {
    throw new Error('IDEMPOTENCY_KEYS_TABLE is not set: it names the table of Idempotency-Keys.');
  }
  return table;
}

const DEFAULT_IDEMPOTENCY_SETTLE_SECONDS = 30;

/**
 * How long after a create's answer was lost (or its function's deadline) ngrok may still act on
 * it: a retry with the same Idempotency-Key waits this long before it looks for the stream.
 */
export function idempotencySettleSeconds(): number {
  const raw = process.env.IDEMPOTENCY_SETTLE_SECONDS;
  if (raw === undefined || raw === '') return DEFAULT_IDEMPOTENCY_SETTLE_SECONDS;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 3600) {
    throw new Error(
      `IDEMPOTENCY_SETTLE_SECONDS must be a whole number of seconds from 0 to 3600; got '${raw}'.`,
    );
  }
  return seconds;
}
