/**
 * A run of the sampling schedule against ngrok: list the streams the policy governs, plan each
 * one's rate at an instant, and apply the plan. Shared by the boundary function, the plan and
 * apply routes (and the chat command after them). N streams cost ⌈N/100⌉ list pages plus one
 * PATCH per stream that changes, each request paced (./pace.ts); one failing stream does not
 * stop the others; every change is an audit line.
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
import type { PlannedStream, Summary } from '../schemas/sampling-api.ts';
import { governingRule, nextChange, rateAt, sameRate } from './evaluate.ts';
import type { Pacer } from './pace.ts';
import { type Policy, type Rule, windowName } from './types.ts';
import { formatLocalInstant, formatUtc } from './zone.ts';

const PAGE_SIZE = 100;
/** No PATCH is started with less time than this left: it could not finish, retries included. */
const PATCH_MARGIN_MS = 2_000;

export interface SamplingRun {
  ngrok: NgrokClient;
  call: CallOptions;
  pacer: Pacer;
  /** When the run must be over (ms since the epoch): nothing is started that would pass it. */
  deadline: number;
}

export interface Governed {
  stream: EventStream;
  rule: Rule;
}

/** Every stream that a rule of the policy (of `only`, if given) governs, listing every page. */
export async function governedStreams(
  policy: Policy,
  run: SamplingRun,
  only?: ReadonlySet<string>,
): Promise<Governed[]> {
  const governed: Governed[] = [];
  let beforeId: string | undefined;
  for (;;) {
    if (!(await run.pacer.turn(run.deadline))) {
      throw new NgrokTimeoutError('event_streams.list');
    }
    const page = await run.ngrok.eventStreams.list(
      { limit: PAGE_SIZE, ...(beforeId ? { before_id: beforeId } : {}) },
      run.call,
    );
    for (const stream of page.event_streams) {
      const rule = governingRule(policy, stream);
      if (rule && (!only || only.has(rule.name))) governed.push({ stream, rule });
    }
    const last = page.event_streams.at(-1);
    if (page.next_page_uri === null || last === undefined) return governed;
    beforeId = last.id;
  }
}

/** The plan for one stream: its rate at `instant` under its rule, and what would be done. */
export function planStream({ stream, rule }: Governed, instant: number): PlannedStream {
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

export interface ApplyContext {
  actor: Actor;
  /** `boundary`, `enforce` or `apply`: why the schedule changed the stream (in the audit line). */
  cause: 'boundary' | 'enforce' | 'apply';
  /** More for the audit line: the scheduled time of a boundary. */
  context?: Record<string, unknown>;
  /**
   * Asked before each change: false when the plan no longer holds for the stream (a boundary
   * run whose rule's next boundary passed while it ran: that boundary's run sets the stream).
   */
  stillDue?: (item: PlannedStream) => boolean;
}

export const SUPERSEDED =
  'not set: a later boundary of its rule passed during the run, and sets it';

/**
 * Sets each stream whose plan says `change` to its desired rate, one paced PATCH each; marks
 * every stream `changed`, `unchanged` or `failed` (with why). Never throws for one stream.
 */
export async function applyPlan(
  planned: PlannedStream[],
  run: SamplingRun,
  apply: ApplyContext,
): Promise<void> {
  for (const item of planned) {
    if (item.action === 'none') {
      item.action = 'unchanged';
      continue;
    }
    if (item.action !== 'change') continue;
    if (apply.stillDue && !apply.stillDue(item)) {
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
          actor: apply.actor,
          action: 'event_stream.update',
          stream_id: item.id,
          context: { cause: apply.cause, rule: item.rule, window: item.window, ...apply.context },
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
