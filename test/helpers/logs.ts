/**
 * Everything the service logs during a test file: the lines of its logger and metrics in this
 * process, and the JSON lines of the local stacks it started. Kept, not printed (LOG_TESTS=1
 * prints them too), so that a failing test's output is readable; and checked after each file
 * for any secret the tests registered (test/setup/logs.ts).
 */

const lines: string[] = [];
const secrets = new Set<string>();
const listeners = new Set<(line: string) => void>();

/** Calls `listener` with each line the service logs from now on; returns how to stop. */
export function onServiceLine(listener: (line: string) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Shapes that are secrets wherever they appear: caller tokens, credentials, Slack webhooks. */
const SECRET_SHAPES = [
  /nes_[A-Za-z0-9_-]{8,}/,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/i,
  /hooks\.slack\.com\//i,
];

export function keepLine(line: string): void {
  lines.push(line);
  for (const listener of listeners) listener(line);
  if (process.env.LOG_TESTS) process.stdout.write(`${line}\n`);
}

/** The service's log lines in a child process's output (JSON objects with a `service` or EMF). */
export function keepServiceLines(output: string): void {
  for (const line of output.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(trimmed) as Record<string, unknown>;
      if ('service' in parsed || '_aws' in parsed) keepLine(trimmed);
    } catch {
      // Not a log line.
    }
  }
}

/** Secrets the service must never log: tokens, API keys, signing secrets. */
export function registerSecret(...values: string[]): void {
  for (const value of values) if (value) secrets.add(value);
}

export const serviceLogs = {
  /** Every line kept so far, oldest first. */
  lines: (): string[] => [...lines],
  /** The lines as objects. */
  records: (): Record<string, unknown>[] =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    }),
  /** The logger's lines with this `message`. */
  messages: (message: string): Record<string, unknown>[] =>
    serviceLogs.records().filter((record) => record.message === message),
  /** The number of lines kept so far: pass it to `since` to read what a test added. */
  mark: (): number => lines.length,
  since: (mark: number): Record<string, unknown>[] =>
    lines.slice(mark).flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    }),
};

/** Each registered secret or secret-shaped string found in what was logged. */
export function leakedSecrets(): string[] {
  const all = lines.join('\n');
  const found = [...secrets]
    .filter((secret) => all.includes(secret))
    .map((s) => `${s.slice(0, 6)}…`);
  for (const shape of SECRET_SHAPES) {
    const match = shape.exec(all);
    if (match) found.push(`${match[0].slice(0, 12)}…`);
  }
  return found;
}

export function loggedLineCount(): number {
  return lines.length;
}
