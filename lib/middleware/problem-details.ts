/**
 * Turns every error into an RFC 9457 problem+json answer. Registered first, so that its onError
 * runs last, after every other middleware had its say. (`@middy/http-error-handler` writes the
 * message as text/plain or JSON, not problem+json: hence this one.)
 */
import { problemOf, problemResponse } from '../http/problem.ts';
import { log } from '../log.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export function problemDetails(): ApiMiddleware {
  const problemDetailsOnError = (request: ApiRequest) => {
    if (request.response !== undefined && request.response !== null) return;
    const problem = problemOf(request.error);
    const error = request.error as
      | (Error & { operation?: string; cause?: unknown })
      | null
      | undefined;
    log(problem.status >= 500 ? 'error' : 'info', 'request failed', {
      status: problem.status,
      kind: problem.kind,
      route: request.event?.routeKey,
      caller: request.context?.callerName,
      requestId: request.context?.awsRequestId,
      // Error names and this project's own messages are safe to log; middy's carry the raw body
      // in their cause, which is not logged.
      error: error?.name,
      reason: problem.status >= 500 ? error?.message : undefined,
      operation: error?.operation,
    });
    request.response = problemResponse(problem);
  };
  return { onError: problemDetailsOnError };
}
