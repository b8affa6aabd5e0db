/**
 * Event Streams and Event Destinations as the ngrok API validates and renders them, written from
 * docs/ngrok-api.md (§2, §3, §6 and its "Decisions" table) and nothing else.
 */
import { badRequest } from './api-error.ts';

export const EVENT_TYPES = ['tcp_connection_closed', 'http_request_complete'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Valid `fields` per event type: the Dec-2022 source reference, without `.v0` (§6). */
export const FIELDS_BY_EVENT_TYPE: Record<EventType, ReadonlySet<string>> = {
  http_request_complete: new Set([
    'backend.connection_reused',
    'basic_auth.decision',
    'basic_auth.username',
    'circuit_breaker.decision',
    'compression.algorithm',
    'compression.bytes_saved',
    'conn.client_ip',
    'conn.server_ip',
    'conn.server_name',
    'conn.server_port',
    'conn.start_ts',
    'http.request.body_length',
    'http.request.headers',
    'http.request.method',
    'http.request.url.host',
    'http.request.url.path',
    'http.request.url.query',
    'http.request.url.raw',
    'http.request.url.scheme',
    'http.request.user_agent',
    'http.response.body_length',
    'http.response.headers',
    'http.response.status_code',
    'ip_policy.decision',
    'oauth.app_client_id',
    'oauth.decision',
    'oauth.user.id',
    'oauth.user.name',
    'tls.cipher_suite',
    'tls.client_cert.serial_number',
    'tls.client_cert.subject.cn',
    'tls.version',
    'webhook_verification.decision',
  ]),
  tcp_connection_closed: new Set([
    'conn.bytes_in',
    'conn.bytes_out',
    'conn.client_ip',
    'conn.end_ts',
    'conn.server_ip',
    'conn.server_name',
    'conn.server_port',
    'conn.start_ts',
    'ip_policy.decision',
  ]),
};

const METADATA_MAX_BYTES = 4096;
const DESCRIPTION_MAX_BYTES = 255;
const SAMPLING_RATE_MIN = 0.01;
const SAMPLING_RATE_MAX = 1;

export interface EventStreamRecord {
  id: string;
  created_at: string;
  metadata: string;
  description: string;
  fields: string[];
  event_type: EventType;
  destination_ids: string[];
  sampling_rate: number;
}

interface AwsAuth {
  role: { role_arn: string } | null;
  creds: { aws_access_key_id: string; aws_secret_access_key: string } | null;
}

export const TARGET_KINDS = {
  firehose: { arnField: 'delivery_stream_arn', service: 'firehose' },
  kinesis: { arnField: 'stream_arn', service: 'kinesis' },
  cloudwatch_logs: { arnField: 'log_group_arn', service: 'logs' },
} as const;
type TargetKind = keyof typeof TARGET_KINDS;

export interface EventTargetRecord {
  kind: TargetKind;
  arn: string;
  auth: AwsAuth;
}

export interface EventDestinationRecord {
  id: string;
  metadata: string;
  created_at: string;
  description: string;
  format: string;
  target: EventTargetRecord;
}

type Body = Record<string, unknown>;

/** The first key of `body` that is not allowed, refused as ERR_NGROK_214. */
function refuseUnknownFields(body: Body, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) {
      throw badRequest(214, `The request body contains an unknown parameter '${key}'.`);
    }
  }
}

/** Decision: an explicit `null` is refused (no SDK sends one; they omit the field). */
function refuseNulls(body: Body): void {
  for (const [key, value] of Object.entries(body)) {
    if (value === null) throw badRequest(215, `The value of '${key}' may not be null.`);
  }
}

function boundedString(body: Body, key: string, maxBytes: number): string | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw badRequest(215, `'${key}' must be a string.`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > maxBytes) {
    throw badRequest(
      215,
      `'${key}' is ${bytes} bytes long; it may be at most ${maxBytes} bytes (UTF-8).`,
    );
  }
  return value;
}

function stringArray(body: Body, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw badRequest(215, `'${key}' must be a list of strings.`);
  }
  return value as string[];
}

function samplingRate(body: Body): number | undefined {
  const value = body.sampling_rate;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw badRequest(215, `'sampling_rate' must be a number.`);
  }
  if (value < SAMPLING_RATE_MIN || value > SAMPLING_RATE_MAX) {
    throw badRequest(
      215,
      `'sampling_rate' is ${value}; it must be between ${SAMPLING_RATE_MIN} and ${SAMPLING_RATE_MAX}.`,
    );
  }
  return value;
}

function validFields(fields: string[], eventType: EventType): string[] {
  const known = FIELDS_BY_EVENT_TYPE[eventType];
  for (const field of fields) {
    if (!known.has(field)) {
      throw badRequest(239, `'${field}' is not a valid field for event type '${eventType}'.`);
    }
  }
  return fields;
}

function existingDestinations(
  ids: string[] | undefined,
  destinations: ReadonlyMap<string, unknown>,
): string[] {
  if (ids === undefined || ids.length === 0) {
    throw badRequest(215, 'An Event Stream is required to have at least one Event Destination.');
  }
  for (const id of ids) {
    if (!destinations.has(id)) {
      throw badRequest(5103, `No event destinations with ID: ${id} associated with this account`);
    }
  }
  return ids;
}

function createdAt(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

const STREAM_CREATE_FIELDS = [
  'metadata',
  'description',
  'fields',
  'event_type',
  'destination_ids',
  'sampling_rate',
] as const;
const STREAM_UPDATE_FIELDS = [
  'id',
  'metadata',
  'description',
  'fields',
  'destination_ids',
  'sampling_rate',
] as const;

export function createEventStream(
  id: string,
  body: Body,
  destinations: ReadonlyMap<string, unknown>,
): EventStreamRecord {
  refuseUnknownFields(body, STREAM_CREATE_FIELDS);
  refuseNulls(body);
  const eventType = body.event_type;
  if (typeof eventType !== 'string' || !(EVENT_TYPES as readonly string[]).includes(eventType)) {
    throw badRequest(
      238,
      `'event_type' must be one of ${EVENT_TYPES.join(', ')}; got ${JSON.stringify(eventType ?? null)}.`,
    );
  }
  return {
    id,
    created_at: createdAt(),
    metadata: boundedString(body, 'metadata', METADATA_MAX_BYTES) ?? '',
    description: boundedString(body, 'description', DESCRIPTION_MAX_BYTES) ?? '',
    fields: validFields(stringArray(body, 'fields') ?? [], eventType as EventType),
    event_type: eventType as EventType,
    destination_ids: existingDestinations(stringArray(body, 'destination_ids'), destinations),
    sampling_rate: createSamplingRate(body),
  };
}

/**
 * On create, 0 means "not given" and the stream samples everything: the Python and Ruby SDKs
 * send 0 when the caller names no rate, and Go's `omitempty` cannot send 0 at all
 * (docs/ngrok-api.md, Decisions). On update no SDK sends 0 unasked, so there it is refused.
 */
function createSamplingRate(body: Body): number {
  if (body.sampling_rate === 0) return 1;
  return samplingRate(body) ?? 1;
}

/** A partial update: only the fields sent change (§4). */
export function updateEventStream(
  stream: EventStreamRecord,
  body: Body,
  destinations: ReadonlyMap<string, unknown>,
): EventStreamRecord {
  if ('event_type' in body) {
    throw badRequest(214, `'event_type' cannot be changed after an Event Stream is created.`);
  }
  refuseUnknownFields(body, STREAM_UPDATE_FIELDS);
  refuseNulls(body);
  if (body.id !== undefined && body.id !== stream.id) {
    throw badRequest(215, `'id' in the body (${String(body.id)}) differs from the id in the path.`);
  }
  const fields = stringArray(body, 'fields');
  const destinationIds = stringArray(body, 'destination_ids');
  return {
    ...stream,
    metadata: boundedString(body, 'metadata', METADATA_MAX_BYTES) ?? stream.metadata,
    description: boundedString(body, 'description', DESCRIPTION_MAX_BYTES) ?? stream.description,
    fields: fields === undefined ? stream.fields : validFields(fields, stream.event_type),
    destination_ids:
      destinationIds === undefined
        ? stream.destination_ids
        : existingDestinations(destinationIds, destinations),
    sampling_rate: samplingRate(body) ?? stream.sampling_rate,
  };
}

export function renderEventStream(stream: EventStreamRecord, origin: string): Body {
  return {
    id: stream.id,
    uri: `${origin}/event_streams/${stream.id}`,
    created_at: stream.created_at,
    metadata: stream.metadata,
    description: stream.description,
    fields: stream.fields,
    event_type: stream.event_type,
    destination_ids: stream.destination_ids,
    sampling_rate: stream.sampling_rate,
  };
}

const ARN = /^arn:[^:]+:([^:]+):[^:]*:[^:]*:.+$/;

function arnOf(value: unknown, what: string, service: string, serviceCode: number): string {
  if (typeof value !== 'string' || !ARN.test(value)) {
    throw badRequest(5120, `${what} must be an ARN; got ${JSON.stringify(value ?? null)}.`);
  }
  const actual = ARN.exec(value)?.[1];
  if (actual !== service) {
    throw badRequest(serviceCode, `${what} must be an ARN of service '${service}'.`);
  }
  return value;
}

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAuth(value: unknown): AwsAuth {
  if (!isObject(value)) throw badRequest(5106, 'The target is missing its AWS auth.');
  refuseUnknownFields(value, ['role', 'creds']);
  const role = value.role ?? null;
  const creds = value.creds ?? null;
  if (role === null && creds === null) {
    throw badRequest(5106, `The target's auth needs one of 'role' or 'creds'.`);
  }
  if (role !== null && creds !== null) {
    throw badRequest(5116, `The target's auth may have only one of 'role' or 'creds'.`);
  }
  if (role !== null) {
    if (!isObject(role)) throw badRequest(240, `'role' must be an object with 'role_arn'.`);
    refuseUnknownFields(role, ['role_arn']);
    return { role: { role_arn: arnOf(role.role_arn, 'role_arn', 'iam', 5104) }, creds: null };
  }
  if (
    !isObject(creds) ||
    typeof creds.aws_access_key_id !== 'string' ||
    creds.aws_access_key_id === '' ||
    typeof creds.aws_secret_access_key !== 'string' ||
    creds.aws_secret_access_key === ''
  ) {
    throw badRequest(240, `'creds' needs 'aws_access_key_id' and 'aws_secret_access_key'.`);
  }
  refuseUnknownFields(creds, ['aws_access_key_id', 'aws_secret_access_key']);
  return {
    role: null,
    creds: {
      aws_access_key_id: creds.aws_access_key_id,
      aws_secret_access_key: creds.aws_secret_access_key,
    },
  };
}

function parseTarget(value: unknown): EventTargetRecord {
  if (value === undefined) throw badRequest(5100, 'An Event Destination needs a target.');
  if (!isObject(value)) throw badRequest(236, `'target' must be an object.`);
  refuseUnknownFields(value, Object.keys(TARGET_KINDS));
  const given = (Object.keys(TARGET_KINDS) as TargetKind[]).filter(
    (kind) => value[kind] !== undefined && value[kind] !== null,
  );
  const [kind] = given;
  if (kind === undefined) throw badRequest(5100, 'An Event Destination needs a target.');
  if (given.length > 1) throw badRequest(5115, 'An Event Destination may have only one target.');
  const { arnField, service } = TARGET_KINDS[kind];
  const variant = value[kind];
  if (!isObject(variant)) throw badRequest(236, `'target.${kind}' must be an object.`);
  refuseUnknownFields(variant, ['auth', arnField]);
  return {
    kind,
    arn: arnOf(variant[arnField], arnField, service, 5119),
    auth: parseAuth(variant.auth),
  };
}

function parseFormat(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.toLowerCase() !== 'json') {
    throw badRequest(235, `'format' must be 'json'; got ${JSON.stringify(value)}.`);
  }
  return 'json';
}

export function createEventDestination(id: string, body: Body): EventDestinationRecord {
  refuseUnknownFields(body, ['metadata', 'description', 'format', 'target']);
  refuseNulls(body);
  return {
    id,
    metadata: boundedString(body, 'metadata', METADATA_MAX_BYTES) ?? '',
    created_at: createdAt(),
    description: boundedString(body, 'description', DESCRIPTION_MAX_BYTES) ?? '',
    format: parseFormat(body.format) ?? 'json',
    target: parseTarget(body.target),
  };
}

export function updateEventDestination(
  destination: EventDestinationRecord,
  body: Body,
): EventDestinationRecord {
  refuseUnknownFields(body, ['id', 'metadata', 'description', 'format', 'target']);
  refuseNulls(body);
  if (body.id !== undefined && body.id !== destination.id) {
    throw badRequest(215, `'id' in the body (${String(body.id)}) differs from the id in the path.`);
  }
  let target = destination.target;
  if (body.target !== undefined) {
    target = parseTarget(body.target);
    if (target.kind !== destination.target.kind) {
      throw badRequest(5108, 'The type of an Event Destination target cannot be changed.');
    }
  }
  return {
    ...destination,
    metadata: boundedString(body, 'metadata', METADATA_MAX_BYTES) ?? destination.metadata,
    description:
      boundedString(body, 'description', DESCRIPTION_MAX_BYTES) ?? destination.description,
    format: parseFormat(body.format) ?? destination.format,
    target,
  };
}

/** Unused variants and auth branches are explicit `null`; the secret key is never echoed. */
function renderTarget(target: EventTargetRecord): Body {
  const auth = {
    role: target.auth.role,
    creds: target.auth.creds && {
      aws_access_key_id: target.auth.creds.aws_access_key_id,
      aws_secret_access_key: null,
    },
  };
  const rendered: Body = {};
  for (const kind of Object.keys(TARGET_KINDS) as TargetKind[]) {
    rendered[kind] =
      kind === target.kind ? { auth, [TARGET_KINDS[kind].arnField]: target.arn } : null;
  }
  return rendered;
}

export function renderEventDestination(destination: EventDestinationRecord, origin: string): Body {
  return {
    id: destination.id,
    metadata: destination.metadata,
    created_at: destination.created_at,
    description: destination.description,
    format: destination.format,
    target: renderTarget(destination.target),
    uri: `${origin}/event_destinations/${destination.id}`,
  };
}

export function isRequestBody(value: unknown): value is Body {
  return isObject(value);
}
