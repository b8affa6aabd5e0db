/**
 * Refuses a body over `maxBytes` (413) before anything parses it. Counts the bytes as sent:
 * API Gateway may hand the body over base64-encoded.
 */
import { payloadTooLarge } from '../http/problem.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export function bodyLimit({ maxBytes }: { maxBytes: number }): ApiMiddleware {
  const bodyLimitBefore = (request: ApiRequest) => {
    const { body, isBase64Encoded } = request.event;
    if (body === undefined || body === null) return;
    const bytes = isBase64Encoded
      ? Buffer.from(body, 'base64').length
      : Buffer.byteLength(body, 'utf8');
    if (bytes > maxBytes) throw payloadTooLarge(maxBytes);
  };
  return { before: bodyLimitBefore };
}
