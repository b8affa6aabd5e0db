/**
 * A create whose answer was lost may still have made its stream. A retry with the same
 * Idempotency-Key (lib/idempotency/with-key.ts) looks for it before creating again: among the
 * newest streams (ngrok lists newest first: one page of 100), one made since the lost attempt
 * began, with the same `event_type`, `destination_ids`, `fields`, `description`, `metadata` and
 * `sampling_rate`. Found, it answers 201 with it, as the lost attempt would have, and audits
 * the create with `outcome: recovered`.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { callNgrok } from '../call-ngrok.ts';
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
 * The stream a create of `body` begun at `since` (ms) made, among `streams` (newest first): the
 * oldest that matches and was made since then, or undefined.
 */
export function findLostCreate(
  streams: readonly EventStream[],
  body: EventStreamCreate,
  since: number,
): EventStream | undefined {
  const from = Math.floor(since / 1000) * 1000 - CLOCK_SLACK_MS;
  return streams.findLast(
    (stream) => Date.parse(stream.created_at) >= from && madeBy(stream, body),
  );
}

/** The `recover` of POST /event-streams: the lost create's stream as its 201, or undefined. */
export async function recoverLostCreate(
  input: { body: EventStreamCreate },
  event: APIGatewayProxyEventV2,
  context: ApiContext,
  since: number,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const page = await callNgrok(context, (ngrok, call) => ngrok.eventStreams.list({}, call));
  const stream = findLostCreate(page.event_streams, input.body, since);
  if (stream === undefined) return undefined;
  context.record.streamId = stream.id;
  audit({
    actor: { kind: 'http', name: context.callerName },
    action: 'event_stream.create',
    stream_id: stream.id,
    outcome: 'recovered',
    context: { lost_attempt_began: new Date(since).toISOString() },
  });
  return json(201, presentEventStream(stream, apiBaseUrl(event)));
}
