/**
 * One HTTP API route as a middy chain, in the order every route needs:
 * metrics → Lambda context in the logs → the request line → problem+json errors → header
 * normalisation → its authentication (a bearer token, the service's secret, the caller and its
 * scope; or the body's size, the secret and the sender's signature on the raw body; or none) →
 * body size limit → JSON body → zod validation → the operation.
 * Function files declare the route (method, path, operation, auth, schemas, answer) and make its
 * ngrok calls; the mechanism lives here once.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { apiGatewayEvent } from '../middleware/api-event.ts';
import { authorize, bearerToken } from '../middleware/bearer-auth.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { jsonBody } from '../middleware/json-body.ts';
import { problemDetails } from '../middleware/problem-details.ts';
import { requestLog } from '../middleware/request-log.ts';
import { serviceSecret } from '../middleware/service-secret.ts';
import { type SignatureScheme, signedBody } from '../middleware/signed-body.ts';
import type { ApiContext, ApiInternal, ApiMiddleware } from '../middleware/types.ts';
import { validateInput } from '../middleware/validate-input.ts';
import { logger } from '../observability/logger.ts';
import { metrics } from '../observability/metrics.ts';
import type { Scope } from '../secrets/service-secret.ts';

export const MAX_BODY_BYTES = 16 * 1024;

type Infer<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Who may call a route: a bearer token with a scope, a sender's signature, or anyone. */
export type RouteAuth = { bearer: Scope } | { signature: SignatureScheme } | 'none';

/**
 * A route as its function file declares it, once: what API Gateway routes to it, who may call
 * it, what it takes and what it answers. The OpenAPI document, the local API Gateway's check
 * against serverless.yml and the tests' route tables all read it (scripts/routes.ts).
 */
export interface RouteDeclaration {
  method: HttpMethod;
  /** API Gateway's path template, e.g. `/event-streams/{id}`. */
  path: string;
  /** Names the route in metrics (dimension `operation`) and the OpenAPI operationId. */
  operation: string;
  summary: string;
  auth: RouteAuth;
  /** zod schemas of the path parameters, the query string and the body. */
  params?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
  /** A request without a body reads as `{}`. */
  bodyOptional?: boolean;
  /** The body's media type, when it is not JSON. */
  bodyType?: string;
  answer: {
    status: number;
    description: string;
    schema?: z.ZodMiniType;
    /** A JSON Schema of the answer instead, where a zod schema would only be bundled for it. */
    jsonSchema?: Record<string, unknown>;
  };
  /** Takes an `Idempotency-Key` (lib/idempotency/with-key.ts). */
  idempotencyKey?: boolean;
  /** Its error statuses, when not those its auth and input give (a Slack route answers in Slack). */
  errorStatuses?: readonly number[];
  /** The largest body it takes, when not MAX_BODY_BYTES (the alert webhooks: a group of alerts). */
  maxBodyBytes?: number;
}

/** A function's handler, with the route it serves. */
export type RouteHandler<H> = H & { route: RouteDeclaration };

type Schema = z.ZodMiniType | undefined;

export interface RouteSpec<P extends Schema, Q extends Schema, B extends Schema>
  extends RouteDeclaration {
  params?: P;
  query?: Q;
  body?: B;
}

export interface RouteInput<P, Q, B> {
  path: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
}

export type Operation<P, Q, B> = (
  input: RouteInput<P, Q, B>,
  event: APIGatewayProxyEventV2,
  context: ApiContext,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The start every HTTP API chain shares (these routes and Slack's): metrics → Lambda context in
 * the logs → the request line → `errors`, which answers every failure after it → the event
 * checked to be API Gateway's → header normalisation.
 */
export function apiChain(operation: string, errors: ApiMiddleware) {
  return (
    middy<
      APIGatewayProxyEventV2,
      APIGatewayProxyStructuredResultV2,
      Error,
      ApiContext,
      ApiInternal
    >()
      .use(logMetrics(metrics))
      // The event is never logged: it holds the caller's token (or Slack's signed body).
      .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
      .use(requestLog({ operation }))
      .use(errors)
      .use(apiGatewayEvent())
      .use(httpHeaderNormalizer())
  );
}

/** The handler of a route, carrying its declaration. */
export function declared<H extends object>(handler: H, route: RouteDeclaration): RouteHandler<H> {
  return Object.assign(handler, { route });
}

export function httpRoute<
  P extends z.ZodMiniType | undefined = undefined,
  Q extends z.ZodMiniType | undefined = undefined,
  B extends z.ZodMiniType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, operation: Operation<P, Q, B>) {
  const chain = apiChain(spec.operation, problemDetails());
  const limit = bodyLimit({ maxBytes: spec.maxBodyBytes ?? MAX_BODY_BYTES });
  if (spec.auth === 'none') {
    if (spec.body !== undefined) chain.use(limit);
  } else if ('bearer' in spec.auth) {
    // The token first: nobody without one gets anything, not even a 413.
    chain
      .use(bearerToken())
      .use(serviceSecret())
      .use(authorize({ scope: spec.auth.bearer }));
    if (spec.body !== undefined) chain.use(limit);
  } else {
    // A signature is checked over the body: its size first.
    chain.use(limit).use(serviceSecret()).use(signedBody(spec.auth.signature));
  }
  if (spec.body !== undefined) chain.use(jsonBody({ optional: spec.bodyOptional }));
  chain.use(validateInput({ path: spec.params, query: spec.query, body: spec.body }));
  return declared(
    chain.handler((event, context) =>
      operation(context.input as RouteInput<P, Q, B>, event, context),
    ),
    spec,
  );
}

export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
}

export function noContent(): APIGatewayProxyStructuredResultV2 {
  return { statusCode: 204 };
}
