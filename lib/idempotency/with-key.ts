/**
 * `Idempotency-Key` for an HTTP route that changes something (IETF draft "The Idempotency-Key
 * HTTP Header Field"; Stripe's behaviour): the first request with a key runs; a retry with the
 * same key and body gets the first answer again (`Idempotent-Replayed: true`) without running;
 * the same key with another body is 422; while the first may still be acting, 409 with
 * `Retry-After`. Keys are the caller's own, per route, kept 24 hours. Without the header the
 * route runs as it always does.
 *
 * What no peer does: an attempt whose answer was lost (its request reached ngrok, then a timeout,
 * a dropped connection, a 5xx or an answer that could not be read) leaves its key `unknown`. Once
 * ngrok can no longer be acting on it (IDEMPOTENCY_SETTLE_SECONDS after the loss, or after the
 * function's deadline if it died), the next retry takes the key over, asks the route's `recover`
 * for what the lost attempt made, and answers with that, running again only if it made nothing.
 * What a key's request made is marked as that key's (`claim`), so that no other key's recovery
 * takes it for its own.
 *
 * Ordering, with conditional writes (lib/idempotency/store.ts): one claim wins a new key; one
 * retry wins a take-over; an attempt writes its outcome only while it still holds the key.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  idempotencyKeyInFlight,
  idempotencyKeyReused,
  idempotencyUnavailable,
} from '../http/problem.ts';
import type { ApiContext } from '../middleware/types.ts';
import { NgrokApiError } from '../ngrok/errors.ts';
import { outcomeOf } from '../observability/audit.ts';
import { logger } from '../observability/logger.ts';
import { settings } from '../settings.ts';
import {
  decide,
  fingerprintOf,
  IDEMPOTENCY_KEY_HEADER,
  type KeyRecord,
  madeId,
  parseIdempotencyKey,
  recordId,
  type StoredResponse,
} from './key.ts';
import * as store from './store.ts';

/** How long a key is kept after its first request. */
export const KEY_TTL_SECONDS = 24 * 60 * 60;
export const REPLAYED_HEADER = 'Idempotent-Replayed';

type Response = APIGatewayProxyStructuredResultV2;
type Run<I> = (input: I, event: APIGatewayProxyEventV2, context: ApiContext) => Promise<Response>;

/** The attempts whose answers were lost: when they began, until when ngrok could act on them. */
export interface LostAttempts {
  since: number;
  until: number;
  /** Marks a thing found as this key's; false when another key's request made it. */
  claim(resourceId: string): Promise<boolean>;
}

export interface IdempotencyOptions<I> {
  /** What a successful answer made (a stream's id), marked as the key's own. */
  resourceOf: (response: Response) => string | undefined;
  /** Looks for what lost attempts made and answers with it; undefined when they made nothing. */
  recover: (
    input: I,
    event: APIGatewayProxyEventV2,
    context: ApiContext,
    lost: LostAttempts,
  ) => Promise<Response | undefined>;
}

/** Whether a failed attempt may have done what it asked: its key is then not released. */
export function mayHaveActed(error: unknown): boolean {
  // A 5xx from ngrok may come after the change was made: not retried, not released.
  return outcomeOf(error) === 'unknown' || (error instanceof NgrokApiError && error.status >= 500);
}

function stored(response: Response): StoredResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) headers[name] = String(value);
  return { statusCode: response.statusCode ?? 200, headers, body: response.body ?? '' };
}

function replayed(response: StoredResponse): Response {
  return { ...response, headers: { ...response.headers, [REPLAYED_HEADER]: 'true' } };
}

/** A store call the request cannot do without: its failure means nothing was done. */
async function required<T>(call: () => Promise<T>, undo?: () => Promise<unknown>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    // The write may have landed before its answer was lost: take it back, so retries need not wait.
    await undo?.().catch(() => undefined);
    throw idempotencyUnavailable({ cause: error });
  }
}

/** A store call after the work is done: its failure is logged, the answer stands. */
async function recorded(what: string, call: () => Promise<boolean>): Promise<void> {
  try {
    if (!(await call())) logger.warn(`idempotency: ${what}: the key was taken over meanwhile`);
  } catch (error) {
    logger.warn(`idempotency: ${what} failed`, { error });
  }
}

export function withIdempotencyKey<I extends { body?: unknown }>(
  options: IdempotencyOptions<I>,
  run: Run<I>,
): Run<I> {
  return async (input, event, context) => {
    const key = parseIdempotencyKey(event.headers?.[IDEMPOTENCY_KEY_HEADER]);
    if (key === undefined) return run(input, event, context);

    const settleMs = settings.idempotencySettleSeconds() * 1000;
    const started = Date.now();
    const deadline = started + context.getRemainingTimeInMillis();
    const id = recordId(event.routeKey, context.callerName, key);
    const attempt = randomUUID();
    const fingerprint = fingerprintOf(input.body);
    const expiresAt = Math.floor(started / 1000) + KEY_TTL_SECONDS;
    const claimResource = (resourceId: string) =>
      store.claimResource(madeId(event.routeKey, resourceId), id, expiresAt, Date.now());

    /** Records a successful answer as the key's, and what it made as the key's own. */
    const complete = async (response: Response) => {
      await recorded('complete', () => store.complete(id, attempt, stored(response)));
      const made = options.resourceOf(response);
      if (made !== undefined) await recorded('claim', () => claimResource(made));
    };

    /** Runs the route while holding the key, and records how it ended. */
    const runHolding = async (): Promise<Response> => {
      let response: Response;
      try {
        response = await run(input, event, context);
      } catch (error) {
        if (mayHaveActed(error)) {
          await recorded('mark unknown', () =>
            store.markUnknown(id, attempt, Date.now() + settleMs),
          );
        } else {
          await recorded('release', () => store.release(id, attempt));
        }
        throw error;
      }
      const status = response.statusCode ?? 200;
      if (status >= 200 && status < 300) await complete(response);
      else await recorded('release', () => store.release(id, attempt));
      return response;
    };

    /** Holding a key whose earlier attempts were lost: what they made, or a new run. */
    const recoverHolding = async (lost: KeyRecord): Promise<Response> => {
      let found: Response | undefined;
      try {
        found = await options.recover(input, event, context, {
          since: lost.startedAt,
          until: lost.inFlightUntil,
          claim: claimResource,
        });
      } catch (error) {
        // Still not known what the lost attempt did: the next retry may look again at once.
        await recorded('mark unknown', () => store.markUnknown(id, attempt, Date.now()));
        throw error;
      }
      if (found === undefined) return runHolding();
      await recorded('complete', () => store.complete(id, attempt, stored(found)));
      return found;
    };

    const first: KeyRecord = {
      id,
      fingerprint,
      state: 'in_progress',
      attempt,
      startedAt: started,
      inFlightUntil: deadline + settleMs,
      expiresAt,
    };
    /** The record this request took over, if it did: what its lost attempts did is looked for. */
    let tookOver: KeyRecord | undefined;
    // A few rounds: a key released or taken over while this request looked at it is looked at again.
    for (let round = 0; round < 3; round++) {
      const now = Date.now();
      const claimed = await required(
        () => store.claim(first, now),
        () => store.release(id, attempt),
      );
      if (claimed.claimed) return runHolding();
      const holder = claimed.holder ?? (await required(() => store.readRecord(id, now)));
      if (holder === undefined) continue;
      // Our own write, whose answer was lost and which the SDK's retry then found in place.
      if (holder.attempt === attempt) return tookOver ? recoverHolding(tookOver) : runHolding();
      const decision = decide(holder, fingerprint, Date.now(), settleMs);
      switch (decision.kind) {
        case 'reused':
          throw idempotencyKeyReused();
        case 'replay':
          return replayed(decision.response);
        case 'wait':
          throw idempotencyKeyInFlight(decision.retryAfterSeconds);
        case 'recover': {
          tookOver = holder;
          const took = await required(() => store.takeOver(holder, attempt, deadline + settleMs));
          if (took) return recoverHolding(holder);
        }
      }
    }
    throw idempotencyKeyInFlight(1);
  };
}
