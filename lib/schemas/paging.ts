/** The query of a list route: one page, newest first, `before_id` and `limit` as ngrok has them. */
import * as z from 'zod/mini';

export const PAGE_LIMIT_MAX = 100;

export function pageQuery(id: z.ZodMiniString<string>) {
  return z.strictObject({
    before_id: z.optional(id.check(z.describe('The page holds the items older than this one.'))),
    limit: z.optional(
      z.pipe(
        z
          .string()
          .check(
            z.regex(/^(?:[1-9][0-9]?|100)$/, { error: 'must be a whole number from 1 to 100' }),
            z.describe(`Items on the page, 1 to ${PAGE_LIMIT_MAX}; ngrok's default is 100.`),
          ),
        z.transform(Number),
      ),
    ),
  });
}
