/**
 * One JSON line per event on stdout, which Lambda sends to CloudWatch Logs. Callers pass only
 * what is safe to keep: never a token, a key or a secret.
 */
type Level = 'info' | 'warn' | 'error';

export function log(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, message, ...fields });
  if (level === 'error') console.error(line);
  else console.log(line);
}
