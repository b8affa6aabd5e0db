/**
 * The OpenAPI 3.1 document of the HTTP API, made from the routes the function files declare
 * (scripts/routes.ts) and the same zod schemas the functions validate with (zod's JSON Schema
 * output is draft 2020-12, which OpenAPI 3.1 uses), and the problem catalogue. `npm run generate`
 * writes it to openapi.json, which `GET /openapi.json` serves; a test fails when the two
 * disagree. Not shipped in any function: only its output is.
 */
import * as z from 'zod/mini';
import { PROBLEM_KINDS, PROBLEM_TYPE_PREFIX } from '../http/problem.ts';
import type { RouteDeclaration } from '../http/route.ts';
import { EventStream, EventStreamList } from '../ngrok/schemas.ts';
import { EventDestinationListAnswer } from '../schemas/event-destinations-api.ts';
import { CreateEventStreamBody, UpdateEventStreamBody } from '../schemas/event-streams-api.ts';
import { Problem } from '../schemas/problem.ts';
import { SamplingAnswer, SamplingApplyBody } from '../schemas/sampling-api.ts';
import { SlackAnswer, SlashCommand } from '../schemas/slack.ts';

type Json = Record<string, unknown>;

/** Every error status of the API, and when it is given (docs/http-api.md's status table). */
export const ERROR_STATUSES: Record<number, string> = {
  400: 'A field is invalid (`errors` names each one), or ngrok refused the request (`error_code`, `operation_id`).',
  401: 'No `Authorization: Bearer` token, or an unknown one (`WWW-Authenticate: Bearer`).',
  403: "The token lacks the route's scope.",
  404: 'No Event Stream has this id; or (DELETE …/sampling-override) it has no override to end.',
  409: 'POST /event-streams: a request with this `Idempotency-Key` is still in flight, or its outcome is not known yet; `Retry-After` says when to try again.',
  413: 'The body is over 16 KiB (the alert webhooks: 1 MiB).',
  415: 'The body is not `Content-Type: application/json`.',
  422: 'The body is not valid JSON; or (POST /event-streams) this `Idempotency-Key` was first sent with another body.',
  429: "ngrok's rate limit was reached; `Retry-After` says when to try again.",
  500: 'The service could not load its secret (its logs say why).',
  502: "ngrok failed: 5xx after retries, refused this service's key, or an unreadable answer. For POST /sampling/apply: not every stream was set (the body lists them all, with why).",
  503: 'POST /event-streams: the `Idempotency-Key` could not be checked; or the sampling overrides could not be read or written. Nothing was done; try again.',
  504: "ngrok did not answer before the function's deadline.",
};

/** Which error statuses a route can give, from who may call it and what it takes in. */
export function errorStatuses(route: RouteDeclaration): number[] {
  if (route.errorStatuses) return [...route.errorStatuses].sort((a, b) => a - b);
  if (route.auth === 'none') return [];
  const statuses = new Set(
    'bearer' in route.auth ? [401, 403, 429, 500, 502, 504] : [401, 429, 500, 502, 504],
  );
  if (route.body) for (const status of [400, 413, 415, 422]) statuses.add(status);
  if (route.params) for (const status of [400, 404]) statuses.add(status);
  if (route.query) statuses.add(400);
  if (route.idempotencyKey) for (const status of [400, 409, 422, 503]) statuses.add(status);
  return [...statuses].sort((a, b) => a - b);
}

/** The schemas the document names (components.schemas); any other is written in place. */
const NAMED_SCHEMAS: [string, z.ZodMiniType, 'input' | 'output'][] = [
  ['CreateEventStreamBody', CreateEventStreamBody, 'input'],
  ['UpdateEventStreamBody', UpdateEventStreamBody, 'input'],
  ['EventStream', EventStream, 'output'],
  ['EventStreamList', EventStreamList, 'output'],
  ['EventDestinationList', EventDestinationListAnswer, 'output'],
  ['SamplingApplyBody', SamplingApplyBody, 'input'],
  ['SamplingAnswer', SamplingAnswer, 'output'],
  ['SlashCommand', SlashCommand, 'input'],
  ['SlackAnswer', SlackAnswer, 'output'],
  ['Problem', Problem, 'output'],
];

function schemaOf(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io }) as Json;
  return json;
}

function parameters(route: RouteDeclaration): Json[] {
  const found: Json[] = [];
  for (const [where, schema] of [
    ['path', route.params],
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
  if (route.idempotencyKey) {
    found.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        "Makes a retry safe: the caller's own key for this request (1 to 255 visible ASCII characters, bare or as the IETF draft's quoted string; a UUID is a good one), kept 24 hours. A retry with the same key and body answers as the first request did, without doing it again; with another body, 422; while the first is in flight, 409 with Retry-After. If the first request's answer was lost, the retry finds the stream it made instead of making another.",
      // 255 characters, and the two quotes of the draft's form.
      schema: { type: 'string', minLength: 1, maxLength: 257 },
    });
  }
  return found;
}

/** A schema by its name in components, or written in place. */
function schemaRef(schema: z.ZodMiniType, io: 'input' | 'output'): Json {
  const named = NAMED_SCHEMAS.find(([, each]) => each === schema);
  return named ? { $ref: `#/components/schemas/${named[0]}` } : schemaOf(schema, io);
}

function authDoc(route: RouteDeclaration): Json {
  if (route.auth === 'none') return { security: [], description: 'No token needed.' };
  if ('signature' in route.auth) {
    return { security: [], description: route.auth.signature.description };
  }
  return {
    security: [{ bearer: [] }],
    description: `Needs a token with the \`${route.auth.bearer}\` scope.`,
    'x-required-scope': route.auth.bearer,
  };
}

function operation(route: RouteDeclaration): Json {
  const responses: Json = {
    [route.answer.status]: {
      description: route.answer.description,
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
      ...(route.answer.schema || route.answer.jsonSchema
        ? {
            content: {
              'application/json': {
                schema: route.answer.schema
                  ? schemaRef(route.answer.schema, 'output')
                  : route.answer.jsonSchema,
              },
            },
          }
        : {}),
    },
  };
  for (const status of errorStatuses(route)) {
    responses[status] = { $ref: `#/components/responses/Problem${status}` };
  }
  const params = parameters(route);
  return {
    operationId: route.operation,
    summary: route.summary,
    ...authDoc(route),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.bodyOptional,
            content: {
              [route.bodyType ?? 'application/json']: { schema: schemaRef(route.body, 'input') },
            },
          },
        }
      : {}),
    responses,
  };
}

export function openApiDocument(version: string, routes: readonly RouteDeclaration[]): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation(route) };
  }
  const problemResponses: Json = {};
  for (const [status, description] of Object.entries(ERROR_STATUSES)) {
    const kinds = Object.entries(PROBLEM_KINDS)
      .filter(([, kind]) => String(kind.status) === status)
      .map(([kind]) => `\`${kind}\``);
    problemResponses[`Problem${status}`] = {
      description: `${description} Kinds (\`type\` is ${PROBLEM_TYPE_PREFIX}<kind>): ${kinds.join(', ')}.`,
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
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
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
      schemas: Object.fromEntries(
        NAMED_SCHEMAS.map(([name, schema, io]) => [name, schemaOf(schema, io)]),
      ),
    },
  };
}
