/**
 * One HTTP API route as a middy chain, in the order every route needs:
 * problem+json errors → header normalisation → a bearer token → the service's secret → the
 * caller and its scope → body size limit → JSON body → zod validation → the operation.
 * Function files name the route's scope, schemas and operation; the mechanism lives here once.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod/mini';
import { authorize, bearerToken } from '../middleware/bearer-auth.ts';
import { bodyLimit } from '../middleware/body-limit.ts';
import { problemDetails } from '../middleware/problem-details.ts';
import { serviceSecret } from '../middleware/service-secret.ts';
import type { ApiContext, ApiInternal } from '../middleware/types.ts';
import { validateInput } from '../middleware/validate-input.ts';
import type { Scope } from '../secrets/service-secret.ts';

export const MAX_BODY_BYTES = 16 * 1024;

type Infer<S> = S extends z.ZodMiniType ? z.infer<S> : undefined;

export interface RouteSpec<P, Q, B> {
  scope: Scope;
  path?: P;
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

export function httpRoute<
  P extends z.ZodMiniType | undefined = undefined,
  Q extends z.ZodMiniType | undefined = undefined,
  B extends z.ZodMiniType | undefined = undefined,
>(spec: RouteSpec<P, Q, B>, operation: Operation<P, Q, B>) {
  const chain = middy<
    APIGatewayProxyEventV2,
    APIGatewayProxyStructuredResultV2,
    Error,
    ApiContext,
    ApiInternal
  >()
    .use(problemDetails())
    .use(httpHeaderNormalizer())
    .use(bearerToken())
    .use(serviceSecret())
    .use(authorize({ scope: spec.scope }));
  if (spec.body !== undefined) {
    chain.use(bodyLimit({ maxBytes: MAX_BODY_BYTES })).use(httpJsonBodyParser());
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
