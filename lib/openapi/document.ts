/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the same zod schemas the functions
 * validate with (zod's JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses). `npm run
 * openapi` writes it to openapi.json, which `GET /openapi.json` serves; a test fails when the
 * two disagree. Not shipped in any function: only its output is.
 */
import * as z from 'zod/mini';
import { EventStream, EventStreamList } from '../ngrok/schemas.ts';
import {
  EventDestinationListAnswer,
  EventDestinationListQuery,
} from '../schemas/event-destinations-api.ts';
import {
  CreateEventStreamBody,
  EventStreamListQuery,
  EventStreamPath,
  UpdateEventStreamBody,
} from '../schemas/event-streams-api.ts';
import { Problem } from '../schemas/problem.ts';
import { SamplingAnswer, SamplingApplyBody, SamplingPlanQuery } from '../schemas/sampling-api.ts';
import { SlackAnswer, SlashCommand } from '../schemas/slack.ts';

type Json = Record<string, unknown>;

/** Every error status of the API, and when it is given (docs/http-api.md's status table). */
export const ERROR_STATUSES: Record<number, string> = {
  400: 'A field is invalid (`errors` names each one), or ngrok refused the request (`error_code`, `operation_id`).',
  401: 'No `Authorization: Bearer` token, or an unknown one (`WWW-Authenticate: Bearer`).',
  403: "The token lacks the route's scope.",
  404: 'No Event Stream has this id.',
  409: 'POST /event-streams: a request with this `Idempotency-Key` is still in flight, or its outcome is not known yet; `Retry-After` says when to try again.',
  413: 'The body is over 16 KiB.',
  415: 'The body is not `Content-Type: application/json`.',
  422: 'The body is not valid JSON; or (POST /event-streams) this `Idempotency-Key` was first sent with another body.',
  429: "ngrok's rate limit was reached; `Retry-After` says when to try again.",
  500: 'The service could not load its secret (its logs say why).',
  502: "ngrok failed: 5xx after retries, refused this service's key, or an unreadable answer. For POST /sampling/apply: not every stream was set (the body lists them all, with why).",
  503: 'POST /event-streams: the `Idempotency-Key` could not be checked, so nothing was done; try again.',
  504: "ngrok did not answer before the function's deadline.",
};

interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  /** `slack`: no token, Slack's signature (X-Slack-Signature) instead. */
  scope: 'read' | 'write' | 'none' | 'slack';
  pathSchema?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: string;
  bodyOptional?: boolean;
  /** The body's media type, if not JSON. */
  bodyType?: string;
  success: { status: number; description: string; schema?: string };
  /** Takes an `Idempotency-Key` (lib/idempotency/with-key.ts). */
  idempotencyKey?: boolean;
}

/** The routes, as serverless.yml declares them (a test checks the two agree). */
export const ROUTES: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/event-streams',
    operationId: 'createEventStream',
    summary: 'Create an Event Stream',
    scope: 'write',
    body: 'CreateEventStreamBody',
    idempotencyKey: true,
    success: {
      status: 201,
      description:
        'The new stream; for a retry with the same `Idempotency-Key`, the first answer again (`Idempotent-Replayed: true`), or the stream a create whose answer was lost had made.',
      schema: 'EventStream',
    },
  },
  {
    method: 'get',
    path: '/event-streams',
    operationId: 'listEventStreams',
    summary: 'List Event Streams: one page, newest first',
    scope: 'read',
    query: EventStreamListQuery,
    success: {
      status: 200,
      description: 'One page; follow `next_page_uri` (null on the last page).',
      schema: 'EventStreamList',
    },
  },
  {
    method: 'get',
    path: '/event-streams/{id}',
    operationId: 'getEventStream',
    summary: 'Get an Event Stream',
    scope: 'read',
    pathSchema: EventStreamPath,
    success: { status: 200, description: 'The stream.', schema: 'EventStream' },
  },
  {
    method: 'patch',
    path: '/event-streams/{id}',
    operationId: 'updateEventStream',
    summary: 'Change an Event Stream: only the fields sent change',
    scope: 'write',
    pathSchema: EventStreamPath,
    body: 'UpdateEventStreamBody',
    success: { status: 200, description: 'The updated stream.', schema: 'EventStream' },
  },
  {
    method: 'delete',
    path: '/event-streams/{id}',
    operationId: 'deleteEventStream',
    summary: 'Delete an Event Stream',
    scope: 'write',
    pathSchema: EventStreamPath,
    success: { status: 204, description: 'Deleted; no body.' },
  },
  {
    method: 'get',
    path: '/event-destinations',
    operationId: 'listEventDestinations',
    summary: 'List Event Destinations (the ed_… ids a create needs): one page, newest first',
    scope: 'read',
    query: EventDestinationListQuery,
    success: {
      status: 200,
      description: 'One page; follow `next_page_uri` (null on the last page).',
      schema: 'EventDestinationList',
    },
  },
  {
    method: 'get',
    path: '/sampling/plan',
    operationId: 'getSamplingPlan',
    summary:
      'The sampling schedule at an instant: each governed stream, its current and desired rate, and its next change',
    scope: 'read',
    query: SamplingPlanQuery,
    success: { status: 200, description: 'The plan.', schema: 'SamplingAnswer' },
  },
  {
    method: 'post',
    path: '/sampling/apply',
    operationId: 'applySampling',
    summary: 'Apply the sampling schedule now (only streams that differ are changed)',
    scope: 'write',
    body: 'SamplingApplyBody',
    bodyOptional: true,
    success: {
      status: 200,
      description: 'Every stream set; each says changed or unchanged.',
      schema: 'SamplingAnswer',
    },
  },
  {
    method: 'post',
    path: '/slack/commands',
    operationId: 'slackCommand',
    summary: 'The /eventstreams Slack slash command (Slack calls it)',
    scope: 'slack',
    body: 'SlashCommand',
    bodyType: 'application/x-www-form-urlencoded',
    success: {
      status: 200,
      description:
        'A Slack message, within 3 s; a longer command is acknowledged and its result posted to the response_url.',
      schema: 'SlackAnswer',
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    scope: 'none',
    success: { status: 200, description: 'The OpenAPI 3.1 document of this API.' },
  },
];

/** Which error statuses a route can give, from what it takes in. */
export function errorStatuses(route: RouteDoc): number[] {
  if (route.scope === 'none') return [];
  // Slack's errors after its signature are answered as Slack messages (200).
  if (route.scope === 'slack') return [400, 401, 413, 415];
  const statuses = new Set([401, 403, 429, 500, 502, 504]);
  if (route.body) for (const status of [400, 413, 415, 422]) statuses.add(status);
  if (route.pathSchema) for (const status of [400, 404]) statuses.add(status);
  if (route.query) statuses.add(400);
  if (route.idempotencyKey) for (const status of [400, 409, 422, 503]) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io }) as Json;
  return json;
}

function parameters(route: RouteDoc): Json[] {
  const found: Json[] = [];
  for (const [where, schema] of [
    ['path', route.pathSchema],
    ['query', route.query],
  ] as const) {
    if (!schema) continue;
    const json = schemaOf(schema, 'input') as {
      properties: Record<string, Json>;
      required?: string[];
    };
    for (const [name, property] of Object.entries(json.properties)) {
      const { description, ...rest } = property;
      found.push({
        name,
        in: where,
        required: where === 'path' || (json.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return found;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function operation(route: RouteDoc): Json {
  const responses: Json = {
    [route.success.status]: {
      description: route.success.description,
      headers: {
        'x-request-id': { $ref: '#/components/headers/RequestId' },
        ...(route.idempotencyKey
          ? {
              'Idempotent-Replayed': {
                description:
                  '`true` when this is the stored answer of an earlier request with the same Idempotency-Key.',
                schema: { type: 'string', enum: ['true'] },
              },
            }
          : {}),
      },
      ...(route.success.schema
        ? { content: { 'application/json': { schema: ref(route.success.schema) } } }
        : route.operationId === 'getOpenApi'
          ? { content: { 'application/json': { schema: { type: 'object' } } } }
          : {}),
    },
  };
  for (const status of errorStatuses(route)) {
    responses[status] = { $ref: `#/components/responses/Problem${status}` };
  }
  const params = parameters(route);
  if (route.idempotencyKey) {
    params.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        "Makes a retry safe: the caller's own key for this request (1 to 255 visible ASCII characters, bare or as the IETF draft's quoted string; a UUID is a good one), kept 24 hours. A retry with the same key and body answers as the first request did, without doing it again; with another body, 422; while the first is in flight, 409 with Retry-After. If the first request's answer was lost, the retry finds the stream it made instead of making another.",
      // 255 characters, and the two quotes of the draft's form.
      schema: { type: 'string', minLength: 1, maxLength: 257 },
    });
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.scope === 'none'
      ? { security: [], description: 'No token needed.' }
      : route.scope === 'slack'
        ? {
            security: [],
            description:
              "No token: Slack's request signature (X-Slack-Signature, X-Slack-Request-Timestamp; v0 HMAC-SHA256 with the app's signing secret) instead.",
          }
        : {
            security: [{ bearer: [] }],
            description: `Needs a token with the \`${route.scope}\` scope.`,
            'x-required-scope': route.scope,
          }),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: { [route.bodyType ?? 'application/json']: { schema: ref(route.body) } },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  }
  const problemResponses: Json = {};
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    problemResponses[`Problem${status}`] = {
      description,
      headers: {
        'x-request-id': { $ref: '#/components/headers/RequestId' },
        ...(status === '429' || status === '409' || status === '503'
          ? { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } }
          : {}),
        ...(status === '401' || status === '403'
          ? {
              'WWW-Authenticate': {
                description: 'Bearer, with the scope needed for 403.',
                schema: { type: 'string' },
              },
            }
          : {}),
      },
      content: { 'application/problem+json': { schema: ref('Problem') } },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'ngrok Event Streams automation',
      version,
      description:
        "Manage ngrok Event Streams over HTTP. Bodies and answers use the ngrok API's own field names; `uri` and `next_page_uri` point at this API. Every error is application/problem+json.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'This API (locally: `npm start`, http://127.0.0.1:3000)' }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'A caller token from `npm run secret:new` (scopes read and/or write).',
        },
      },
      headers: {
        RequestId: {
          description:
            'The request id: in every log line of the request, and `instance` of a problem.',
          schema: { type: 'string' },
        },
      },
      responses: problemResponses,
      schemas: {
        CreateEventStreamBody: schemaOf(CreateEventStreamBody, 'input'),
        UpdateEventStreamBody: schemaOf(UpdateEventStreamBody, 'input'),
        EventStream: schemaOf(EventStream, 'output'),
        EventStreamList: schemaOf(EventStreamList, 'output'),
        EventDestinationList: schemaOf(EventDestinationListAnswer, 'output'),
        SamplingApplyBody: schemaOf(SamplingApplyBody, 'input'),
        SamplingAnswer: schemaOf(SamplingAnswer, 'output'),
        SlashCommand: schemaOf(SlashCommand, 'input'),
        SlackAnswer: schemaOf(SlackAnswer, 'output'),
        Problem: schemaOf(Problem, 'output'),
      },
    },
  };
}
