/**
 * Bearer-token auth against the callers in the service's secret, with scopes: the first thing a
 * route does. A request without a token is refused before the secret is even loaded.
 */
import { findCaller } from '../auth/tokens.ts';
import { forbidden, unauthorized } from '../http/problem.ts';
import { loadServiceSecret, type Scope } from '../secrets/service-secret.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

export function bearerAuth({ scope }: { scope: Scope }): ApiMiddleware {
  const bearerAuthBefore = async (request: ApiRequest) => {
    const token = BEARER.exec(request.event.headers?.authorization ?? '')?.[1];
    if (token === undefined) {
      throw unauthorized('Send the header Authorization: Bearer <token>.');
    }
    const secret = await loadServiceSecret();
    const caller = findCaller(secret.callers, token);
    if (caller === undefined) throw unauthorized('The bearer token is not valid.');
    if (!caller.scopes.includes(scope)) throw forbidden(scope);
    request.context.serviceSecret = secret;
    request.context.callerName = caller.name;
  };
  return { before: bearerAuthBefore };
}
