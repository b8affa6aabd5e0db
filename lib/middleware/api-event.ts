/**
 * Refuses anything that is not an API Gateway HTTP API (payload 2.0) event before anything else
 * reads it: API Gateway never sends one, but a misconfigured integration or a hand-made
 * `invoke` can, and no such event may reach ngrok.
 */
import { problem } from '../http/problem.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function isApiGatewayV2Event(event: unknown): boolean {
  if (!isObject(event) || event.version !== '2.0' || typeof event.routeKey !== 'string')
    return false;
  const context = event.requestContext;
  if (!isObject(context) || !isObject(context.http) || typeof context.http.method !== 'string') {
    return false;
  }
  if (event.headers !== undefined && !isObject(event.headers)) return false;
  if (event.body !== undefined && event.body !== null && typeof event.body !== 'string')
    return false;
  for (const part of [event.headers, event.queryStringParameters, event.pathParameters]) {
    if (
      part !== undefined &&
      part !== null &&
      (!isObject(part) || Object.values(part).some((value) => typeof value !== 'string'))
    ) {
      return false;
    }
  }
  return true;
}

export function apiGatewayEvent(): ApiMiddleware {
  const apiGatewayEventBefore = (request: ApiRequest) => {
    if (!isApiGatewayV2Event(request.event)) {
      throw problem(
        'malformed-event',
        'The function was invoked with an event that is not an API Gateway HTTP API (payload 2.0) request.',
      );
    }
  };
  return { before: apiGatewayEventBefore };
}
