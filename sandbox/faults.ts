/**
 * Faults injected for tests: for the next `times` requests that match a method and a path, delay,
 * answer with a status, or drop the connection (before the request is acted on, or after).
 */
import { ApiError } from './api-error.ts';

export interface Fault {
  /** An HTTP method, or `*` for any. */
  method: string;
  /** A path; `*` stands for one path segment, e.g. `/event_streams/*`. */
  path: string;
  /** How many matching requests it applies to. */
  times: number;
  /** Wait this long before going on. */
  delay_ms?: number;
  /** Answer with this status and an ngrok error body. */
  status?: number;
  error_code?: string;
  /** With a `status`: the `Retry-After` header, in seconds. */
  retry_after?: number;
  /** With a `status`: this raw body instead of an ngrok error body (no content type). */
  body?: string;
  /** Close the connection without an answer: `before` acting on the request, or `after`. */
  drop?: 'before' | 'after';
}

function patternToRegExp(path: string): RegExp {
  const escaped = path
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

export function parseFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null)
    throw new ApiError(400, 'A fault is a JSON object.');
  const fault = { method: '*', times: 1, ...(input as Partial<Fault>) } as Fault;
  if (typeof fault.path !== 'string' || !fault.path.startsWith('/')) {
    throw new ApiError(400, `A fault needs a 'path' starting with '/'.`);
  }
  if (!Number.isInteger(fault.times) || fault.times < 1) {
    throw new ApiError(400, `'times' must be a positive integer.`);
  }
  if (
    fault.status !== undefined &&
    !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)
  ) {
    throw new ApiError(400, `'status' must be an HTTP status (200-599).`);
  }
  if (fault.body !== undefined && (typeof fault.body !== 'string' || fault.status === undefined)) {
    throw new ApiError(400, `'body' must be a string and comes with a 'status'.`);
  }
  if (fault.drop !== undefined && fault.drop !== 'before' && fault.drop !== 'after') {
    throw new ApiError(400, `'drop' must be 'before' or 'after'.`);
  }
  if (fault.status === undefined && fault.drop === undefined && fault.delay_ms === undefined) {
    throw new ApiError(400, `A fault needs at least one of 'status', 'drop' or 'delay_ms'.`);
  }
  fault.method = fault.method.toUpperCase();
  return fault;
}

export class FaultList {
  private faults: { fault: Fault; remaining: number; path: RegExp }[] = [];

  add(fault: Fault): void {
    this.faults.push({ fault, remaining: fault.times, path: patternToRegExp(fault.path) });
  }

  clear(): void {
    this.faults = [];
  }

  pending(): (Fault & { remaining: number })[] {
    return this.faults.map(({ fault, remaining }) => ({ ...fault, remaining }));
  }

  /** The first fault that matches, used up by one. */
  take(method: string, path: string): Fault | undefined {
    const entry = this.faults.find(
      ({ fault, path: pattern }) =>
        (fault.method === '*' || fault.method === method) && pattern.test(path),
    );
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining === 0) this.faults.splice(this.faults.indexOf(entry), 1);
    return entry.fault;
  }
}
