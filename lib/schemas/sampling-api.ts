/**
 * `GET /sampling/plan?at=` and `POST /sampling/apply`: their inputs, and (for the OpenAPI
 * document and the tests) the shape of their answers, whose types are those of every sampling
 * run (lib/sampling/run.ts imports them as types only: no validation code in its bundles).
 */
import * as z from 'zod/mini';
import { EventStream } from '../ngrok/schemas.ts';

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

const actor = z.object({
  kind: z.string().check(z.describe('http, slack, schedule or webhook.')),
  name: z.string().check(z.describe('The HTTP caller, the Slack user id, the webhook.')),
  team: z.optional(z.string().check(z.describe('Slack only: the workspace.'))),
});

/** An override as the API shows it: instants in UTC, RFC 3339. */
export const SamplingOverride = z.object({
  stream_id: z.string(),
  key: z
    .string()
    .check(
      z.describe("`manual` for HTTP and Slack (one per stream); a system's own key otherwise."),
    ),
  sampling_rate: z.number(),
  starts_at: z.string().check(z.describe('When it starts to hold (UTC).')),
  expires_at: z.string().check(z.describe('When it ends, by itself (UTC).')),
  reason: z.string(),
  actor,
  created_at: z.string(),
});
export type SamplingOverride = z.infer<typeof SamplingOverride>;

const rateSource = z
  .enum(['schedule', 'override', 'restore'])
  .check(
    z.describe(
      "schedule: the governing rule's rate; override: an override's; restore: the rate a stream no rule governs had before its first override.",
    ),
  );

export const PlannedStream = z.object({
  id: z.string(),
  description: z.string(),
  rule: z
    .nullable(z.string())
    .check(z.describe('The rule that governs the stream; null: none (an override holds it).')),
  window: z
    .nullable(z.string())
    .check(z.describe('The window that holds; null: the default rate.')),
  current_rate: z.number(),
  desired_rate: z
    .number()
    .check(z.describe("The effective rate: an override's, else the schedule's.")),
  override: z
    .nullable(SamplingOverride)
    .check(z.describe('The override that holds at the instant, or null.')),
  action: z
    .enum(['change', 'none', 'held', 'changed', 'unchanged', 'failed'])
    .check(
      z.describe(
        'Plan: change, none, or held (an override holds the stream at its rate). Apply: changed, unchanged, held or failed.',
      ),
    ),
  error: z.optional(z.string().check(z.describe('Why the change failed.'))),
  next_change: z
    .nullable(
      z.object({
        at: z.string().check(z.describe('UTC, RFC 3339.')),
        local: z.string().check(z.describe("The rule's local time, RFC 3339 with its offset.")),
        timezone: z.string(),
        rate: z.number(),
        source: rateSource,
      }),
    )
    .check(
      z.describe(
        "When the service next sets this stream (an override's start or end, or a boundary no override covers; a change made by hand is overwritten then), and to what.",
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
  held: z.int(),
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

/** Where a stream goes when something ends: the instant, the rate, and why. */
export const RateThen = z.object({
  at: z.string().check(z.describe('UTC, RFC 3339.')),
  sampling_rate: z.number(),
  source: rateSource,
});
export type RateThen = z.infer<typeof RateThen>;

const instant = (description: string) =>
  z.iso
    .datetime({
      offset: true,
      error:
        'must be an RFC 3339 instant with its offset (Z or ±hh:mm), e.g. 2027-03-28T03:00:00+02:00: a time without one names no instant',
    })
    .check(z.describe(description));

/** `PUT /event-streams/{id}/sampling-override`. */
export const SamplingOverrideBody = z
  .strictObject({
    sampling_rate: z
      .number({ error: 'must be a number' })
      .check(
        z.gte(0.01, { error: 'must be at least 0.01' }),
        z.lte(1, { error: 'must be at most 1' }),
        z.describe('The rate while the override holds, 0.01 to 1.'),
      ),
    duration: z.optional(
      z
        .string({ error: 'must be an ISO 8601 duration, e.g. PT30M, PT2H or P1D' })
        .check(z.describe('How long from its start, ISO 8601: PT30M, PT2H, P1D (or give until).')),
    ),
    until: z.optional(instant('When it ends, RFC 3339 with an offset (or give duration).')),
    starts_at: z.optional(
      instant('When it starts, RFC 3339 with an offset, at most 30 days ahead; default: now.'),
    ),
    reason: z.optional(
      z
        .string({ error: 'must be a string' })
        .check(
          z.maxLength(500, { error: 'must be at most 500 characters' }),
          z.describe('Why, for the audit lines and whoever looks later (e.g. an incident).'),
        ),
    ),
  })
  .check(
    z.refine((body) => (body.duration === undefined) !== (body.until === undefined), {
      error:
        'give exactly one of duration (e.g. PT2H) and until (an RFC 3339 instant): every override ends',
      path: ['duration'],
    }),
  );
export type SamplingOverrideBody = z.infer<typeof SamplingOverrideBody>;

export const SamplingOverrideAnswer = z.object({
  override: SamplingOverride,
  event_stream: EventStream,
  // biome-ignore lint/suspicious/noThenProperty: the answer's field (a plain object, not a thenable)
  then: z
    .nullable(RateThen)
    .check(z.describe('What the stream goes to when the override ends, and why.')),
});

export const SamplingOverrideList = z.object({
  overrides: z.array(
    z.object({
      ...SamplingOverride.shape,
      state: z.enum(['holding', 'planned']),
      effective_rate: z
        .nullable(z.number())
        .check(
          z.describe(
            "The stream's effective rate now; null: the service does not set it now (no rule governs it and no override of it has started), or it is gone.",
          ),
        ),
      effective_source: z.nullable(rateSource),
    }),
  ),
});
