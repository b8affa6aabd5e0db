/**
 * `GET /sampling/plan?at=` and `POST /sampling/apply`: their inputs, and (for the OpenAPI
 * document and the tests) the shape of their answers, whose types are those of every sampling
 * run (lib/sampling/run.ts imports them as types only: no validation code in its bundles).
 */
import * as z from 'zod/mini';

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1);

export const SamplingPlanQuery = z.strictObject({
  at: z.optional(
    z.pipe(
      z.iso
        .datetime({
          offset: true,
          error: 'must be an RFC 3339 instant, e.g. 2027-03-28T03:00:00+02:00',
        })
        .check(
          z.refine((value) => !(Date.parse(value) < EARLIEST || Date.parse(value) >= LATEST), {
            error: 'must be an instant from 1970 to 9999',
          }),
          z.describe('The instant to plan for, RFC 3339; default: now.'),
        ),
      z.transform((value: string) => Date.parse(value)),
    ),
  ),
});
export type SamplingPlanQuery = z.infer<typeof SamplingPlanQuery>;

export const SamplingApplyBody = z.strictObject({
  dry_run: z.optional(
    z
      .boolean({ error: 'must be true or false' })
      .check(z.describe('true: answer the plan, change nothing.')),
  ),
});
export type SamplingApplyBody = z.infer<typeof SamplingApplyBody>;

export const PlannedStream = z.object({
  id: z.string(),
  description: z.string(),
  rule: z.string().check(z.describe('The rule that governs the stream.')),
  window: z
    .nullable(z.string())
    .check(z.describe('The window that holds; null: the default rate.')),
  current_rate: z.number(),
  desired_rate: z.number(),
  action: z
    .enum(['change', 'none', 'changed', 'unchanged', 'failed'])
    .check(z.describe('Plan: change or none. Apply: changed, unchanged or failed.')),
  error: z.optional(z.string().check(z.describe('Why the change failed.'))),
  next_change: z
    .nullable(
      z.object({
        at: z.string().check(z.describe('UTC, RFC 3339.')),
        local: z.string().check(z.describe("The rule's local time, RFC 3339 with its offset.")),
        timezone: z.string(),
        rate: z.number(),
      }),
    )
    .check(
      z.describe(
        'When the schedule next sets this stream (a change made by hand is overwritten then), and to what.',
      ),
    ),
});
/** One stream of a plan or of a run: what lib/sampling/run.ts plans and applies. */
export type PlannedStream = z.infer<typeof PlannedStream>;

/** How many streams a plan or a run counted, and how many of each action. */
export const Summary = z.object({
  streams: z.int(),
  change: z.int(),
  none: z.int(),
  changed: z.int(),
  unchanged: z.int(),
  failed: z.int(),
});
export type Summary = z.infer<typeof Summary>;

export const SamplingAnswer = z.object({
  at: z.string().check(z.describe('The instant planned for (UTC).')),
  dry_run: z.optional(z.boolean()),
  streams: z.array(PlannedStream),
  summary: Summary,
});
export type SamplingAnswer = z.infer<typeof SamplingAnswer>;
