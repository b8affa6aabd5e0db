/**
 * Loads the service's secret (Powertools `getSecret`, cached per container for
 * SECRET_CACHE_SECONDS) into `context.serviceSecret`.
 */
import { loadServiceSecret } from '../secrets/service-secret.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export function serviceSecret(): ApiMiddleware {
  const serviceSecretBefore = async (request: ApiRequest) => {
    request.context.serviceSecret = await loadServiceSecret();
  };
  return { before: serviceSecretBefore };
}
