/**
 * A create whose answer was lost may still have made its stream. A retry with the same
 * Idempotency-Key (lib/idempotency/with-key.ts) looks for it before creating again: among the
 * newest streams (ngrok lists newest first: one page of 100), one made while ngrok could act on
 * the lost attempts, with the same `event_type`, `destination_ids`, `fields`, `description`,
 * `metadata` and `sampling_rate`, and that no other key's request made. Found, it answers 201
 * with it, as the lost attempt would have, and audits the create with `outcome: recovered`.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { callNgrok } from '../call-ngrok.ts';
import type { LostAttempts } from '../idempotency/with-key.ts';
import type { ApiContext } from '../middleware/types.ts';
import type { EventStream, EventStreamCreate } from '../ngrok/schemas.ts';
import { audit } from '../observability/audit.ts';
import { apiBaseUrl, presentEventStream } from './links.ts';
import { json } from './route.ts';

/**
 * ngrok's `created_at` has whole seconds, and its clock and Lambda's may differ a little: a
 * stream counts as made since the attempt began from this long before it.
 */
export const CLOCK_SLACK_MS = 2_000;
/** ngrok lists at most 100 a page: the newest page is where a stream made moments ago is. */
const NEWEST_PAGE = 100;
/** ngrok's own default for a rate that is not given. */
const DEFAULT_SAMPLING_RATE = 1;

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/** Whether `stream` is what creating `body` makes (ngrok's defaults for what it leaves out). */
export function madeBy(stream: EventStream, body: EventStreamCreate): boolean {
  return (
    stream.event_type === body.event_type &&
    sameSet(stream.destination_ids, body.destination_ids) &&
    // Without `fields`, ngrok chooses them: any set then.
    (body.fields === undefined || sameSet(stream.fields, body.fields)) &&
    stream.description === (body.description ?? '') &&
    stream.metadata === (body.metadata ?? '') &&
    Math.abs(stream.sampling_rate - (body.sampling_rate ?? DEFAULT_SAMPLING_RATE)) < 1e-9
  );
}

/**
 * The streams a create of `body` whose answer was lost may have made, oldest first: those among
 * `streams` (newest first) that match and were made while ngrok could act on it — from when the
 * first attempt began (`since`) to when the last could no longer be acted on (`until`).
 */
export function lostCreateCandidates(
  streams: readonly EventStream[],
  body: EventStreamCreate,
  window: { since: number; until: number },
): EventStream[] {
  const from = Math.floor(window.since / 1000) * 1000 - CLOCK_SLACK_MS;
  const to = window.until + CLOCK_SLACK_MS;
  return streams
    .filter((stream) => {
      const made = Date.parse(stream.created_at);
      return made >= from && made <= to && madeBy(stream, body);
    })
    .reverse();
}

/**
 * The `recover` of POST /event-streams: the stream the lost create made, as its 201 — the oldest
 * candidate that no other key's request made — or undefined.
 */
export async function recoverLostCreate(
  input: { body: EventStreamCreate },
  event: APIGatewayProxyEventV2,
  context: ApiContext,
  lost: LostAttempts,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const page = await callNgrok(context, (ngrok, call) =>
    ngrok.eventStreams.list({ limit: NEWEST_PAGE }, call),
  );
  for (const stream of lostCreateCandidates(page.event_streams, input.body, lost)) {
    if (!(await lost.claim(stream.id))) continue;
    context.record.streamId = stream.id;
    audit({
      actor: { kind: 'http', name: context.callerName },
      action: 'event_stream.create',
      stream_id: stream.id,
      outcome: 'recovered',
      context: { lost_attempt_began: new Date(lost.since).toISOString() },
    });
    return json(201, presentEventStream(stream, apiBaseUrl(event)));
  }
  return undefined;
}

/** What a create answered: the new stream's id. */
export function createdStreamId(response: APIGatewayProxyStructuredResultV2): string | undefined {
  try {
    const id = (JSON.parse(response.body ?? '') as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
