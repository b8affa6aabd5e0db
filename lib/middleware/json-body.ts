/**
 * A JSON body (`@middy/http-json-body-parser`: 415 for another content type, 422 for a body that
 * is not JSON); with `optional`, a request without a body reads as `{}` (e.g. POST /sampling/apply).
 */
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export function jsonBody({ optional = false } = {}): ApiMiddleware {
  const parser = httpJsonBodyParser();
  const jsonBodyBefore = (request: ApiRequest) => {
    const { body } = request.event;
    if (optional && (body === undefined || body === null || body === '')) {
      (request.event as { body: unknown }).body = {};
      return;
    }
    return parser.before?.(request as never);
  };
  return { before: jsonBodyBefore };
}
