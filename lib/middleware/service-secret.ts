/**
 * Loads the service's secret (Powertools `getSecret`, cached per container for
 * SECRET_CACHE_SECONDS) into `context.serviceSecret`.
 */
import { loadServiceSecret } from '../secrets/service-secret.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export function serviceSecret(): ApiMiddleware {
  const serviceSecretBefore = async (request: ApiRequest) => {
    // Time is kept back for the answer: a read that would take longer fails as a 500 in time.
    request.context.serviceSecret = await loadServiceSecret({
      timeoutMs: request.context.getRemainingTimeInMillis() - 500,
    });
  };
  return { before: serviceSecretBefore };
}
