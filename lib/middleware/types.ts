import type { MiddlewareObj, Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { ServiceSecret } from '../secrets/service-secret.ts';

/** What the middlewares leave on the Lambda context for the handler. */
export interface ApiContext extends Context {
  /** Set by `bearerAuth`: the service's secret, and the name of the caller it let in. */
  serviceSecret: ServiceSecret;
  callerName: string;
  /** Set by `validateInput`: path, query and body, parsed by their zod schemas. */
  input: { path: unknown; query: unknown; body: unknown };
}

export type ApiRequest = Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  ApiContext
>;

export type ApiMiddleware = MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  ApiContext
>;
