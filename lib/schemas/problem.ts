/**
 * The shape of every error answer (RFC 9457 `application/problem+json`), as a schema: for the
 * OpenAPI document and for tests that check answers against it. lib/http/problem.ts makes them.
 */
import * as z from 'zod/mini';
import { PROBLEM_KINDS, PROBLEM_TYPE_PREFIX } from '../http/problem.ts';

export const Problem = z.object({
  type: z
    .enum(Object.keys(PROBLEM_KINDS).map((kind) => `${PROBLEM_TYPE_PREFIX}${kind}`))
    .check(z.describe('The kind of problem: the prefix and one kind of the catalogue.')),
  title: z.string().check(z.describe('A short summary of the kind of problem.')),
  status: z.int().check(z.describe('The HTTP status, as in the response.')),
  detail: z.string().check(z.describe('What went wrong with this request, and what to do.')),
  instance: z.optional(
    z.string().check(z.describe('The request id, as in the `x-request-id` response header.')),
  ),
  errors: z.optional(
    z
      .array(
        z.object({
          field: z.string().check(z.describe('`body.<field>`, `path.id` or `query.<name>`.')),
          message: z.string(),
        }),
      )
      .check(z.describe('For a validation failure: each bad field.')),
  ),
  error_code: z.optional(
    z.string().check(z.describe("ngrok's error code (ERR_NGROK_…), when ngrok refused.")),
  ),
  operation_id: z.optional(
    z.string().check(z.describe("ngrok's operation id, for a support ticket with ngrok.")),
  ),
});
export type Problem = z.infer<typeof Problem>;
