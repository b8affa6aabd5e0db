/**
 * A JSON body: `Content-Type: application/json`, with no charset or a UTF-8 one (however it is
 * spelled: `; charset=utf-8`, ` ; Charset="UTF8"`), else 415 — a body in another charset would
 * be misread as UTF-8. Parsed by `@middy/http-json-body-parser` (422 for a body that is not JSON,
 * a key like `__proto__` refused by name). With `optional`, no body at all reads as `{}`.
 */
import httpJsonBodyParser from '@middy/http-json-body-parser';
import { unsupportedMediaType } from '../http/problem.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

/** Whether a Content-Type header says JSON in UTF-8 (RFC 9110 §8.3: type/subtype *( OWS ";" OWS parameter )). */
export function isJsonUtf8(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [mediaType = '', ...parameters] = contentType.split(';');
  if (mediaType.trim().toLowerCase() !== 'application/json') return false;
  for (const parameter of parameters) {
    const [name = '', ...rest] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const value = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (value !== 'utf-8' && value !== 'utf8') return false;
  }
  return true;
}

export function jsonBody({ optional = false } = {}): ApiMiddleware {
  const parser = httpJsonBodyParser({ disableContentTypeCheck: true });
  const jsonBodyBefore = (request: ApiRequest) => {
    const { body, headers } = request.event;
    if (optional && (body === undefined || body === null || body === '')) {
      (request.event as { body: unknown }).body = {};
      return;
    }
    if (!isJsonUtf8(headers?.['content-type']))
      throw unsupportedMediaType('JSON in UTF-8, with Content-Type: application/json');
    return parser.before?.(request as never);
  };
  return { before: jsonBodyBefore };
}
