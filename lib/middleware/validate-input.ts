/**
 * Validates path parameters, query string and body with zod schemas and leaves the parsed values
 * in `context.input`. Every bad field is named in the 400's `errors` list.
 */
import type * as z from 'zod/mini';
import { type FieldError, validationFailed } from '../http/problem.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export interface InputSchemas {
  path?: z.ZodMiniType;
  query?: z.ZodMiniType;
  body?: z.ZodMiniType;
}

type Issue = z.core.$ZodIssue;

function fieldErrors(where: string, issues: readonly Issue[]): FieldError[] {
  return issues.flatMap((issue): FieldError[] => {
    const field = [where, ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: `${field}.${key}`,
        message: 'is not a known field',
      }));
    }
    if (issue.code === 'invalid_type' && issue.path.length === 0 && where === 'body') {
      return [{ field, message: 'must be a JSON object' }];
    }
    return [{ field, message: issue.message }];
  });
}

export function validateInput(schemas: InputSchemas): ApiMiddleware {
  const validateInputBefore = (request: ApiRequest) => {
    const { event } = request;
    const parts = {
      path: [schemas.path, event.pathParameters ?? {}],
      query: [schemas.query, event.queryStringParameters ?? {}],
      body: [schemas.body, event.body],
    } as const;
    const errors: FieldError[] = [];
    const input: Record<string, unknown> = {};
    for (const [where, [schema, value]] of Object.entries(parts)) {
      if (schema === undefined) continue;
      const result = schema.safeParse(value);
      if (result.success) input[where] = result.data;
      else errors.push(...fieldErrors(where, result.error.issues));
    }
    if (errors.length > 0) throw validationFailed(errors);
    request.context.input = input as ApiRequest['context']['input'];
  };
  return { before: validateInputBefore };
}
