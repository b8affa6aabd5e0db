/**
 * The functions' configuration, from their environment (README "Configuration"). Read when
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
