/**
 * One HTTP API route as a middy chain, in the order every route needs:
 * metrics → Lambda context in the logs → the request line → problem+json errors → header
 * normalisation → a bearer token → the service's secret → the caller and its scope → body size
 * limit → JSON body → zod validation → the operation.
 * Function files name the route's operation, scope, schemas and ngrok calls; the mechanism
 * lives here once.
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
import type { ApiContext, ApiInternal, ApiMiddleware } from '../middleware/types.ts';
import { validateInput } from '../middleware/validate-input.ts';
import { logger } from '../observability/logger.ts';
import { metrics } from '../observability/metrics.ts';
import type { Scope } from '../secrets/service-secret.ts';

export const MAX_BODY_BYTES = 16 * 1024;

type Infer<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;

export interface RouteSpec<P, Q, B> {
  /** Names the route in metrics (dimension `operation`), e.g. `getEventStream`. */
  operation: string;
  /** The scope a caller's token needs; `none` for a public route (no token, no secret). */
  scope: Scope | 'none';
  path?: P;
  query?: Q;
  body?: B;
  /** A request without a body reads as `{}`. */
  bodyOptional?: boolean;
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

export function httpRoute<
  P extends z.ZodMiniType | undefined = undefined,
  Q extends z.ZodMiniType | undefined = undefined,
  B extends z.ZodMiniType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, operation: Operation<P, Q, B>) {
  const chain = apiChain(spec.operation, problemDetails());
  if (spec.scope !== 'none') {
    chain
      .use(bearerToken())
      .use(serviceSecret())
      .use(authorize({ scope: spec.scope }));
  }
  if (spec.body !== undefined) {
    chain
      .use(bodyLimit({ maxBytes: MAX_BODY_BYTES }))
      .use(jsonBody({ optional: spec.bodyOptional }));
  }
  chain.use(validateInput({ path: spec.path, query: spec.query, body: spec.body }));
  return chain.handler((event, context) =>
    operation(context.input as RouteInput<P, Q, B>, event, context),
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
