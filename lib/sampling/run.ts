/**
 * A run of the sampling schedule against ngrok: list the streams the policy governs, plan each
 * one's rate at an instant, and apply the plan. The boundary function, the plan and apply routes
 * and the chat command all get their run from ./session.ts and plan or apply with it here, so
 * that a stream's desired rate is decided in one place (`planStream`). N streams cost ⌈N/100⌉
 * list pages plus one PATCH per stream that changes, each request paced (./pace.ts); one failing
 * stream does not stop the others; every change is an audit line.
 */
import type { NgrokClient } from '../ngrok/client.ts';
import {
  NgrokApiError,
  NgrokInvalidResponseError,
  NgrokNetworkError,
  NgrokTimeoutError,
} from '../ngrok/errors.ts';
import type { EventStream } from '../ngrok/schemas.ts';
import type { CallOptions } from '../ngrok/transport.ts';
import { type Actor, audited, changedFields } from '../observability/audit.ts';
import type { PlannedStream, SamplingAnswer, Summary } from '../schemas/sampling-api.ts';
import { governingRule, nextChange, rateAt, sameRate } from './evaluate.ts';
import type { Pacer } from './pace.ts';
import { type Policy, type Rule, windowName } from './types.ts';
import { formatLocalInstant, formatUtc } from './zone.ts';

const PAGE_SIZE = 100;
/** No PATCH is started with less time than this left: it could not finish, retries included. */
const PATCH_MARGIN_MS = 2_000;

/**
 * When a run plans: one instant for every governed stream, or a rule's name → the instant of its
 * streams, for the rules named alone (a boundary run: each rule's own boundary).
 */
export type PlanAt = number | ReadonlyMap<string, number>;

/** What a plan or an apply answers: every stream planned, and how many of each action. */
export type RunResult = Pick<SamplingAnswer, 'streams' | 'summary'>;

/** One run's client, call options, pacer, deadline and policy (./session.ts builds it). */
export interface Run {
  ngrok: NgrokClient;
  call: CallOptions;
  pacer: Pacer;
  /** When the run must be over (ms since the epoch): nothing is started that would pass it. */
  deadline: number;
  /** What decides each stream's rule and rate. */
  policy: Policy;
}

export interface ApplyOptions {
  actor: Actor;
  /** `boundary`, `enforce` or `apply`: why the schedule changed the stream (in the audit line). */
  cause: 'boundary' | 'enforce' | 'apply';
  /** More for the audit line: the scheduled time of a boundary. */
  context?: Record<string, unknown>;
  /**
   * A boundary run: a stream is left alone once its rule's next boundary after the instant
   * planned for (the plan's `next_change`) has passed while the run went on: that boundary's
   * run sets it.
   */
  untilNextBoundary?: boolean;
}

/**
 * Every stream, newest first, page after page, each page in the pacer's turn. `beforePage` is
 * asked first (0 for the first page) and may throw to stop; `outOfTime` gives what is thrown
 * when a page's turn would come after the deadline (default: an NgrokTimeoutError).
 */
export function listStreams(
  run: Run,
  options: { beforePage?: (index: number) => void; outOfTime?: () => Error } = {},
): AsyncGenerator<EventStream> {
  return run.ngrok.eventStreams.listAll({ limit: PAGE_SIZE }, run.call, async (index) => {
    options.beforePage?.(index);
    if (!(await run.pacer.turn(run.deadline))) {
      throw options.outOfTime?.() ?? new NgrokTimeoutError('event_streams.list');
    }
  });
}

/** The plan for one stream at `at`; undefined when no rule governs it. */
export function planOf(run: Run, stream: EventStream, at: number): PlannedStream | undefined {
  const rule = governingRule(run.policy, stream);
  return rule && planStream(stream, rule, at);
}

/**
 * Every stream that a rule of the policy governs (a rule `at` names, if it names rules), listing
 * every page, planned at its instant.
 */
export async function plan(run: Run, at: PlanAt): Promise<RunResult> {
  const streams: PlannedStream[] = [];
  for await (const stream of listStreams(run)) {
    const rule = governingRule(run.policy, stream);
    const instant = rule && (typeof at === 'number' ? at : at.get(rule.name));
    if (rule && instant !== undefined) streams.push(planStream(stream, rule, instant));
  }
  return { streams, summary: summarize(streams) };
}

/** The plan for one stream: its rate at `instant` under its rule, and what would be done. */
function planStream(stream: EventStream, rule: Rule, instant: number): PlannedStream {
  const { rate, window } = rateAt(rule, instant);
  const next = nextChange(rule, instant);
  return {
    id: stream.id,
    description: stream.description,
    rule: rule.name,
    window: windowName(window),
    current_rate: stream.sampling_rate,
    desired_rate: rate,
    action: sameRate(stream.sampling_rate, rate) ? 'none' : 'change',
    next_change: next
      ? {
          at: formatUtc(next.at),
          local: formatLocalInstant(next.at, rule.timezone),
          timezone: rule.timezone,
          rate: next.rate,
        }
      : null,
  };
}

/** What went wrong with one stream, safe to show: no upstream text, no key, no URL. */
export function failureOf(error: unknown): string {
  if (error instanceof NgrokApiError) {
    return `ngrok answered HTTP ${error.status}${error.errorCode ? ` (${error.errorCode})` : ''}`;
  }
  if (error instanceof NgrokTimeoutError) return 'ngrok did not answer in time';
  if (error instanceof NgrokNetworkError) return 'ngrok could not be reached';
  if (error instanceof NgrokInvalidResponseError) return 'ngrok gave an answer that cannot be read';
  return 'the change failed';
}

export const SUPERSEDED =
  'not set: a later boundary of its rule passed during the run, and sets it';

/**
 * The plan, applied: each stream whose plan says `change` is set to its desired rate, one paced
 * PATCH each; every stream is marked `changed`, `unchanged` or `failed` (with why). Never throws
 * for one stream.
 */
export async function apply(run: Run, at: PlanAt, options: ApplyOptions): Promise<RunResult> {
  const { streams } = await plan(run, at);
  for (const item of streams) {
    if (item.action === 'none') {
      item.action = 'unchanged';
      continue;
    }
    if (item.action !== 'change') continue;
    if (
      options.untilNextBoundary &&
      item.next_change &&
      Date.parse(item.next_change.at) <= Date.now()
    ) {
      item.action = 'unchanged';
      item.error = SUPERSEDED;
      continue;
    }
    if (!(await run.pacer.turn(run.deadline - PATCH_MARGIN_MS))) {
      item.action = 'failed';
      item.error = 'not reached before the deadline: run again to finish';
      continue;
    }
    try {
      await audited(
        {
          actor: options.actor,
          action: 'event_stream.update',
          stream_id: item.id,
          context: {
            cause: options.cause,
            rule: item.rule,
            window: item.window,
            ...options.context,
          },
        },
        async () => {
          const updated = await run.ngrok.eventStreams.update(
            item.id,
            { sampling_rate: item.desired_rate },
            run.call,
          );
          const before = { sampling_rate: item.current_rate };
          return { result: updated, changes: changedFields(before, updated, ['sampling_rate']) };
        },
      );
      item.action = 'changed';
    } catch (error) {
      item.action = 'failed';
      item.error = failureOf(error);
    }
  }
  return { streams, summary: summarize(streams) };
}

export function summarize(planned: readonly PlannedStream[]): Summary {
  const summary: Summary = {
    streams: planned.length,
    change: 0,
    none: 0,
    changed: 0,
    unchanged: 0,
    failed: 0,
  };
  for (const item of planned) summary[item.action]++;
  return summary;
}
