/**
 * The ngrok API's wire objects for Event Streams and Event Destinations (docs/ngrok-api.md §2,
 * §3), as zod schemas: one schema per object, and every type inferred from it. `zod/mini` keeps
 * the shipped bundle small (a fraction of zod classic's size and import time).
 *
 * Request schemas are strict and carry the API's limits; response schemas are lenient about
 * fields ngrok may add later (they are dropped) but not about the fields this project reads.
 */
import * as z from 'zod/mini';

export const EVENT_TYPES = ['tcp_connection_closed', 'http_request_complete'] as const;

/** Prefix and base62 KSUID: letters and digits only, so an id can never carry a path. */
const ID_BODY = '[A-Za-z0-9]{1,64}';
export const EVENT_STREAM_ID = new RegExp(`^es_${ID_BODY}$`);
export const EVENT_DESTINATION_ID = new RegExp(`^ed_${ID_BODY}$`);

export const METADATA_MAX_BYTES = 4096;
export const DESCRIPTION_MAX_BYTES = 255;
export const SAMPLING_RATE_MIN = 0.01;
export const SAMPLING_RATE_MAX = 1;

const utf8 = new TextEncoder();

/** ngrok counts these limits in UTF-8 bytes, not characters. */
function maxBytes(limit: number) {
  return z.refine<string>((value) => utf8.encode(value).length <= limit, {
    error: `must be at most ${limit} bytes of UTF-8`,
  });
}

export const eventStreamId = z
  .string()
  .check(
    z.regex(EVENT_STREAM_ID, { error: 'must be an Event Stream id: es_ then letters and digits' }),
  );
export const eventDestinationId = z.string().check(
  z.regex(EVENT_DESTINATION_ID, {
    error: 'must be an Event Destination id: ed_ then letters and digits',
  }),
);
const metadata = z
  .string({ error: 'must be a string' })
  .check(
    maxBytes(METADATA_MAX_BYTES),
    z.describe(`Arbitrary user data, at most ${METADATA_MAX_BYTES} bytes of UTF-8.`),
  );
const description = z
  .string({ error: 'must be a string' })
  .check(
    maxBytes(DESCRIPTION_MAX_BYTES),
    z.describe(`Human-readable, at most ${DESCRIPTION_MAX_BYTES} bytes of UTF-8.`),
  );
const fields = z
  .array(z.string({ error: 'must be a string' }), { error: 'must be a list of strings' })
  .check(z.describe('The event fields to capture, e.g. http.request.method.'));
const eventType = z
  .enum(EVENT_TYPES, { error: `must be one of ${EVENT_TYPES.join(', ')}` })
  .check(z.describe('The kind of event; fixed once the stream is created.'));
const destinationIds = z
  .array(eventDestinationId, { error: 'must be a list of Event Destination ids' })
  .check(
    z.minLength(1, { error: 'must name at least one Event Destination' }),
    z.describe('Where events go: ed_… ids (GET /event-destinations lists them).'),
  );
const samplingRate = z
  .number({ error: 'must be a number' })
  .check(
    z.gte(SAMPLING_RATE_MIN, { error: `must be at least ${SAMPLING_RATE_MIN}` }),
    z.lte(SAMPLING_RATE_MAX, { error: `must be at most ${SAMPLING_RATE_MAX}` }),
    z.describe('The fraction of events captured, 0.01 to 1 (default 1).'),
  );

/** `POST /event_streams`. */
export const EventStreamCreate = z.strictObject({
  metadata: z.optional(metadata),
  description: z.optional(description),
  fields: z.optional(fields),
  event_type: eventType,
  destination_ids: destinationIds,
  sampling_rate: z.optional(samplingRate),
});
export type EventStreamCreate = z.infer<typeof EventStreamCreate>;

/** `PATCH /event_streams/{id}`: only the fields given change; `event_type` is immutable. */
export const EventStreamUpdate = z.strictObject({
  metadata: z.optional(metadata),
  description: z.optional(description),
  fields: z.optional(fields),
  destination_ids: z.optional(destinationIds),
  sampling_rate: z.optional(samplingRate),
});
export type EventStreamUpdate = z.infer<typeof EventStreamUpdate>;

export const EventStream = z.object({
  id: z.string(),
  uri: z.string(),
  created_at: z.string(),
  metadata: z.string(),
  description: z.string(),
  fields: z.array(z.string()),
  event_type: z.string(),
  destination_ids: z.array(z.string()),
  sampling_rate: z.number(),
});
export type EventStream = z.infer<typeof EventStream>;

export const EventStreamList = z.object({
  event_streams: z.array(EventStream),
  uri: z.string(),
  next_page_uri: z.nullable(z.string()),
});
export type EventStreamList = z.infer<typeof EventStreamList>;

/** AWS credentials of a target: exactly one of `role` or `creds`; the secret is never echoed. */
const AwsAuth = z.object({
  role: z.nullish(z.object({ role_arn: z.string() })),
  creds: z.nullish(
    z.object({ aws_access_key_id: z.string(), aws_secret_access_key: z.nullish(z.string()) }),
  ),
});

const targetVariant = <K extends string>(arnField: K) =>
  z.nullish(
    z.object({ auth: AwsAuth, [arnField]: z.string() } as { auth: typeof AwsAuth } & Record<
      K,
      z.ZodMiniString
    >),
  );

export const EventTarget = z.object({
  firehose: targetVariant('delivery_stream_arn'),
  kinesis: targetVariant('stream_arn'),
  cloudwatch_logs: targetVariant('log_group_arn'),
});
export type EventTarget = z.infer<typeof EventTarget>;

export const EventDestination = z.object({
  id: z.string(),
  metadata: z.string(),
  created_at: z.string(),
  description: z.string(),
  format: z.string(),
  target: EventTarget,
  uri: z.string(),
});
export type EventDestination = z.infer<typeof EventDestination>;

export const EventDestinationList = z.object({
  event_destinations: z.array(EventDestination),
  uri: z.string(),
  next_page_uri: z.nullable(z.string()),
});
export type EventDestinationList = z.infer<typeof EventDestinationList>;

/** An error answer: `error_code` may be missing (a plain 404 has none). */
export const ApiErrorBody = z.object({
  error_code: z.optional(z.string()),
  status_code: z.number(),
  msg: z.string(),
  details: z.optional(z.record(z.string(), z.unknown())),
});
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** `limit` 1..100 (default 100) and `before_id`, for one page of a list. */
export interface PageRequest {
  before_id?: string;
  limit?: number;
}
