/**
 * The audit trail: one line for every change to an Event Stream, whoever made it (an HTTP
 * caller, the sampling schedule, a Slack user), successful or not. Lines carry `"audit": true`,
 * so `{ $.audit IS TRUE }` finds them all in CloudWatch Logs Insights or a metric filter.
 */
import {
  type NgrokError,
  NgrokInvalidResponseError,
  NgrokNetworkError,
  NgrokTimeoutError,
} from '../ngrok/errors.ts';
import { logger } from './logger.ts';

export interface Actor {
  /** `http`: a caller of the HTTP API; `schedule`: the sampling schedule; `slack`: a Slack user. */
  kind: 'http' | 'schedule' | 'slack' | 'alertmanager' | 'pagerduty';
  /** The HTTP caller's name (from the secret), `scheduler`, or the Slack user id. */
  name: string;
  /** Slack only: the workspace (team id). */
  team?: string;
}

export type AuditAction =
  | 'event_stream.create'
  | 'event_stream.update'
  | 'event_stream.delete'
  | 'sampling_override.set'
  | 'sampling_override.end';

/** Per changed field: its value before and after. */
export type FieldChanges = Record<string, { before: unknown; after: unknown }>;

/**
 * `success`: done. `failure`: not done. `unknown`: the change was sent and its answer lost (a
 * timeout, a dropped connection, a success answer that could not be read): it may have been
 * made; read the stream to know.
 * `recovered`: a create whose answer was lost had made its stream, found by a retry with the
 * same Idempotency-Key (which answers with it instead of creating another).
 */
export type Outcome = 'success' | 'failure' | 'unknown' | 'recovered';

export interface AuditEntry {
  actor: Actor;
  action: AuditAction;
  stream_id?: string;
  changes?: FieldChanges;
  outcome: Outcome;
  /** Why a change failed: the error's class, and ngrok's status and code where there are some. */
  error?: { name: string; operation?: string; status?: number; error_code?: string };
  /** What else explains the change: a schedule's rule and window, its cause. */
  context?: Record<string, unknown>;
}

/** Writes one audit line. The one way any part of the service records a change. */
export function audit(entry: AuditEntry): void {
  logger.info('audit', { audit: true, ...entry });
}

/** The ngrok operations that change something: a timeout in one of them leaves it unknown. */
const CHANGING_OPERATIONS = new Set([
  'event_streams.create',
  'event_streams.update',
  'event_streams.delete',
]);

export function outcomeOf(error: unknown): Outcome {
  const lost =
    error instanceof NgrokTimeoutError ||
    (error instanceof NgrokNetworkError && error.requestSent) ||
    // ngrok said it was done, in an answer that could not be read.
    (error instanceof NgrokInvalidResponseError && error.status < 300);
  return lost && CHANGING_OPERATIONS.has((error as NgrokError).operation) ? 'unknown' : 'failure';
}

export function auditError(error: unknown): NonNullable<AuditEntry['error']> {
  const { name, operation, status, errorCode } = (error ?? {}) as {
    name?: unknown;
    operation?: unknown;
    status?: unknown;
    errorCode?: unknown;
  };
  return {
    name: typeof name === 'string' ? name : 'Error',
    ...(typeof operation === 'string' ? { operation } : {}),
    ...(typeof status === 'number' ? { status } : {}),
    ...(typeof errorCode === 'string' ? { error_code: errorCode } : {}),
  };
}

/** The fields among `keys` whose value differs between `before` and `after`. */
export function changedFields<T extends object>(
  before: T,
  after: T,
  keys: readonly string[],
): FieldChanges {
  const changes: FieldChanges = {};
  for (const key of keys) {
    const was = (before as Record<string, unknown>)[key];
    const is = (after as Record<string, unknown>)[key];
    if (JSON.stringify(was) !== JSON.stringify(is)) changes[key] = { before: was, after: is };
  }
  return changes;
}

export interface ChangeResult<T> {
  result: T;
  stream_id?: string;
  changes?: FieldChanges;
}

/**
 * Runs a change and audits it either way: its result's stream and changes on success; the
 * error, and whether the change may have been made, on failure (the error is rethrown).
 */
export async function audited<T>(
  entry: Pick<AuditEntry, 'actor' | 'action' | 'stream_id' | 'context'>,
  change: () => Promise<ChangeResult<T>>,
): Promise<T> {
  let done: ChangeResult<T>;
  try {
    done = await change();
  } catch (error) {
    audit({ ...entry, outcome: outcomeOf(error), error: auditError(error) });
    throw error;
  }
  audit({
    ...entry,
    stream_id: done.stream_id ?? entry.stream_id,
    ...(done.changes ? { changes: done.changes } : {}),
    outcome: 'success',
  });
  return done.result;
}
