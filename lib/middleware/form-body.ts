/**
 * A form body (`application/x-www-form-urlencoded`, as Slack sends a slash command), parsed by
 * `@middy/http-urlencode-body-parser`; any other type is 415, said as this service says it.
 */
import httpUrlencodeBodyParser from '@middy/http-urlencode-body-parser';
import { unsupportedMediaType } from '../http/problem.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

const FORM = /^application\/x-www-form-urlencoded\s*(;.*)?$/i;

export function formBody(): ApiMiddleware {
  const parser = httpUrlencodeBodyParser({ disableContentTypeCheck: true });
  const formBodyBefore = (request: ApiRequest) => {
    if (!FORM.test(request.event.headers?.['content-type'] ?? '')) {
      throw unsupportedMediaType('a form, with Content-Type: application/x-www-form-urlencoded');
    }
    return parser.before?.(request as never);
  };
  return { before: formBodyBefore };
}
