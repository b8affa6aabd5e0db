import type { MiddlewareObj, Request } from '@middy/core';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import type { ProblemFields } from '../http/problem.ts';
import type { CallReport } from '../ngrok/transport.ts';
import type { ServiceSecret } from '../secrets/service-secret.ts';

/** What the request line (`requestLog`) reports; filled in as the request goes. */
export interface RequestRecord {
  /** The API Gateway request id: the `x-request-id` header and `instance` of a problem. */
  requestId: string;
  /** `performance.now()` when the request came in. */
  started: number;
  /** The stream the request is about, once known (a create learns it from ngrok). */
  streamId?: string;
  /** Every call to ngrok, in order. */
  ngrokCalls: CallReport[];
  /** Set by `problemDetails` when the request failed. */
  problem?: ProblemFields;
  error?: unknown;
  /** Why a request was refused, for the operator (e.g. why a Slack signature failed). */
  note?: string;
}

/** What the middlewares leave on the Lambda context for the handler. */
export interface ApiContext extends Context {
  /** Set by `requestLog`. */
  record: RequestRecord;
  /** Set by `serviceSecret`. */
  serviceSecret: ServiceSecret;
  /** Set by `authorize`: the name of the caller it let in. */
  callerName: string;
  /** Set by `validateInput`: path, query and body, parsed by their zod schemas. */
  input: { path: unknown; query: unknown; body: unknown };
}

/** Between middlewares only: `bearerToken` leaves the presented token for `authorize`. */
export interface ApiInternal extends Record<string, unknown> {
  bearerToken: string;
}

export type ApiRequest = Request<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  ApiContext,
  ApiInternal
>;

export type ApiMiddleware = MiddlewareObj<
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Error,
  ApiContext,
  ApiInternal
>;
