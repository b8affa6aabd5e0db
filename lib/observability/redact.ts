/**
 * The last line of defence for "never a secret in a log": every string the logger writes passes
 * through `redact`. Values the service loaded from its secret (the ngrok API key, the Slack
 * signing secret) are registered when they are read; caller tokens, `Authorization` values and
 * Slack `response_url`s are recognised by their shape. Code should still never hand a secret to
 * the logger: this catches what slips through, such as an upstream message that echoes a key.
 */

const REDACTED = '[redacted]';

/** Shorter values are not registered: they would redact ordinary words. */
const MIN_SECRET_LENGTH = 8;

const SHAPES: readonly RegExp[] = [
  // This service's caller tokens (lib/auth/tokens.ts).
  /nes_[A-Za-z0-9_-]{8,}/g,
  // An Authorization header's credential, whatever its scheme's case.
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // Slack response_urls let anyone who holds them post to a channel.
  /https:\/\/hooks\.slack\.com\/[^\s"'<>]*/gi,
];

/** Any of SHAPES: most strings match none, and are let through after this one test. */
const ANY_SHAPE = new RegExp(SHAPES.map((shape) => shape.source).join('|'), 'i');

const values = new Set<string>();

/** Registers a secret value read at run time; it is redacted from every later log line. */
export function registerSecretValue(value: string | undefined): void {
  if (value !== undefined && value.length >= MIN_SECRET_LENGTH) values.add(value);
}

export function redact(text: string): string {
  let safe = text;
  for (const value of values) if (safe.includes(value)) safe = safe.replaceAll(value, REDACTED);
  if (!ANY_SHAPE.test(safe)) return safe;
  for (const shape of SHAPES) safe = safe.replace(shape, REDACTED);
  return safe;
}

/** A JSON.stringify replacer that redacts every string, keys' values at any depth. */
export function redactingReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redact(value) : value;
}
