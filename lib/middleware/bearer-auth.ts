/**
 * Bearer-token auth against the callers in the service's secret, in two steps around the secret:
 * `bearerToken()` refuses a request without a token before anything else happens (not even the
 * secret is loaded), `authorize()` finds the caller and checks the route's scope.
 */
import { findCaller } from '../auth/tokens.ts';
import { forbidden, unauthorized } from '../http/problem.ts';
import type { Scope } from '../secrets/service-secret.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

/** 401 without `Authorization: Bearer <token>`; the token is kept in `request.internal`. */
export function bearerToken(): ApiMiddleware {
  const bearerTokenBefore = (request: ApiRequest) => {
    const token = BEARER.exec(request.event.headers?.authorization ?? '')?.[1];
    if (token === undefined) throw unauthorized('Send the header Authorization: Bearer <token>.');
    request.internal.bearerToken = token;
  };
  return { before: bearerTokenBefore };
}

/** 401 for a token no caller has, 403 for a caller without the route's scope. */
export function authorize({ scope }: { scope: Scope }): ApiMiddleware {
  const authorizeBefore = (request: ApiRequest) => {
    const caller = findCaller(request.context.serviceSecret.callers, request.internal.bearerToken);
    request.internal.bearerToken = '';
    if (caller === undefined) throw unauthorized('The bearer token is not valid.');
    if (!caller.scopes.includes(scope)) throw forbidden(scope);
    request.context.callerName = caller.name;
  };
  return { before: authorizeBefore };
}
