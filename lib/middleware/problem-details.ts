/**
 * Turns every error into an RFC 9457 problem+json answer, with the request id as `instance`.
 * Registered just inside `requestLog`, so that its onError runs after every other middleware
 * had its say; the request line (not this) reports the problem. (`@middy/http-error-handler`
 * writes the message as text/plain or JSON, not problem+json: hence this one.)
 */
import { HttpProblem, type ProblemFields, problemOf, problemResponse } from '../http/problem.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

/** The request's error as the problem the caller sees, noted for the request line. */
export function recordProblem(request: ApiRequest): ProblemFields {
  const problem = problemOf(request.error);
  const { record } = request.context;
  record.problem = problem;
  if (request.error instanceof HttpProblem && request.error.note) record.note = request.error.note;
  // Only an error the service did not expect is worth its stack in the log; a caller's
  // mistake is said by the problem's kind. (Middy's parse errors carry the raw body.)
  if (problem.status >= 500) record.error = request.error;
  return problem;
}

export function problemDetails(): ApiMiddleware {
  const problemDetailsOnError = (request: ApiRequest) => {
    if (request.response !== undefined && request.response !== null) return;
    const problem = recordProblem(request);
    request.response = problemResponse(problem, request.context.record.requestId);
  };
  return { onError: problemDetailsOnError };
}
