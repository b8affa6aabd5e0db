/**
 * What an alert does to the streams of its incidents: an override with the alert's own key on
 * each stream an incident selects (firing), extended when the same alert comes again, ended when
 * it resolves. The overrides are stored first — that is what must not be lost, and it needs only
 * DynamoDB — then the streams are set now as far as ngrok lets: when ngrok is slow or down, the
 * override's schedules and the 15-minute run set them (lib/overrides, lib/sampling/run.ts).
 * Every delivery may be a repeat (Alertmanager's HA pair, its repeat_interval, PagerDuty's
 * retries): a repeat extends the same override, never adds one.
 */
import { problem } from '../http/problem.ts';
import type { EventStream } from '../ngrok/schemas.ts';
import type { Actor } from '../observability/audit.ts';
import { logger } from '../observability/logger.ts';
import { auditOverrideEnd, auditOverrideSet } from '../overrides/audit.ts';
import { endNow, keepRight, scheduled } from '../overrides/operations.ts';
import { type ScheduleTarget, scheduleOverride } from '../overrides/schedules.ts';
import {
  extendOverride,
  overridesOf,
  putOverride,
  removeEnded,
  type StoredOverride,
} from '../overrides/store.ts';
import { restoreRate } from '../sampling/effective.ts';
import { governingRule } from '../sampling/evaluate.ts';
import { failureOf, listStreams, type Run } from '../sampling/run.ts';
import type { Incident } from '../sampling/types.ts';
import { formatUtc } from '../sampling/zone.ts';
import { selects } from './match.ts';

export type StreamOutcome = 'override-set' | 'override-extended' | 'override-ended' | 'ignored';

export interface StreamResult {
  stream_id: string;
  incident: string;
  outcome: StreamOutcome;
  /** Why it was ignored, or what is left to do. */
  detail?: string;
}

/** One delivery's view of the streams: listed once, when an incident selects by prefix. */
export class DeliveryStreams {
  private listed: Promise<EventStream[] | Error> | undefined;
  private readonly run: Run;
  /** Each stream's overrides as this delivery knows them: read once, kept up to date. */
  private readonly records = new Map<string, StoredOverride[]>();
  /** Overrides stored or moved by this delivery: their schedules are made at the end. */
  private readonly toSchedule: StoredOverride[] = [];
  /** Streams to set at the end, once each, with who set them. */
  private readonly toSet = new Map<
    string,
    { stream: EventStream | undefined; actor: Actor; context: Record<string, unknown> }
  >();
  /** Why streams of some incident could not be known (ngrok could not list them). */
  unresolved: string | undefined;

  /**
   * 503 when the streams of some incident could not be known: the others are stored, and the
   * sender's next delivery (a repeat changes nothing) raises the rest.
   */
  requireAllStored(): void {
    if (this.unresolved === undefined) return;
    throw problem(
      'overrides-unavailable',
      `${this.unresolved}, so those overrides could not be stored; the others were: the sender delivers again — what was done is not done twice.`,
      { headers: { 'Retry-After': '30' } },
    );
  }

  constructor(run: Run) {
    this.run = run;
  }

  /** A stream's overrides: read the first time, then as this delivery changed them. */
  async overridesFor(streamId: string): Promise<StoredOverride[]> {
    let known = this.records.get(streamId);
    if (!known) {
      known = await overridesOf(streamId);
      this.records.set(streamId, known);
    }
    return known;
  }

  /** Notes an override this delivery stored or moved. */
  stored(
    override: StoredOverride,
    set: { stream: EventStream | undefined; actor: Actor; context: Record<string, unknown> },
  ): void {
    const others = (this.records.get(override.stream_id) ?? []).filter(
      (each) => each.key !== override.key,
    );
    this.records.set(override.stream_id, [...others, override]);
    this.toSchedule.push(override);
    if (!this.toSet.has(override.stream_id)) this.toSet.set(override.stream_id, set);
  }

  /**
   * After every alert of the delivery is stored: the schedules, then each stream set once to its
   * effective rate, as far as the time left lets (what is not done here, the runs do).
   */
  async finish(target: ScheduleTarget, now: number): Promise<void> {
    for (const override of this.toSchedule) {
      if (Date.now() >= this.run.deadline) break;
      await scheduled('made', override.stream_id, () =>
        scheduleOverride(target, override, now, this.run.deadline),
      );
    }
    for (const [streamId, { stream, actor, context }] of this.toSet) {
      if (Date.now() >= this.run.deadline) break;
      await setNow(this.run, streamId, stream, await overridesOf(streamId), actor, context);
    }
  }

  /** The run, with half of the time left at most: the overrides must still be stored after. */
  private bounded(): Run {
    const now = Date.now();
    const until = now + Math.max(0, Math.floor((this.run.deadline - now) / 2));
    return {
      ...this.run,
      deadline: Math.min(this.run.deadline, until),
      call: { ...this.run.call, deadline: Math.min(this.run.call.deadline ?? until, until) },
    };
  }

  /**
   * One stream named by id, read to know its rule and its rate before the override (its
   * `restore_rate` when no rule governs it); undefined when ngrok does not answer in time.
   */
  async get(id: string): Promise<EventStream | undefined> {
    const run = this.bounded();
    try {
      return await run.ngrok.eventStreams.get(id, run.call);
    } catch {
      return undefined;
    }
  }

  /** Every stream, or the error that stopped the listing (in half of the time left at most). */
  all(): Promise<EventStream[] | Error> {
    this.listed ??= (async () => {
      const bounded = this.bounded();
      const found: EventStream[] = [];
      try {
        for await (const stream of listStreams(bounded)) found.push(stream);
        return found;
      } catch (error) {
        return error instanceof Error ? error : new Error(String(error));
      }
    })();
    return this.listed;
  }

  /**
   * The streams the incident selects: by id as named (no ngrok call: an alert must be stored
   * even while ngrok is down), and by prefix from the listing. `unresolved` says why some could
   * not be known.
   */
  async of(
    incident: Incident,
  ): Promise<{ streams: Map<string, EventStream | undefined>; unresolved?: string }> {
    const streams = new Map<string, EventStream | undefined>();
    for (const id of incident.streams.ids) streams.set(id, undefined);
    const prefix = incident.streams.description_prefix;
    if (prefix === null) return { streams };
    const listed = await this.all();
    if (!Array.isArray(listed)) {
      this.unresolved = `the streams of prefix '${prefix}' could not be listed (${failureOf(listed)})`;
      return {
        streams,
        unresolved: `the streams of prefix '${prefix}' could not be listed (${failureOf(listed)}): the service answers 503, and the sender's next delivery raises them`,
      };
    }
    for (const stream of listed)
      if (selects(incident.streams, stream)) streams.set(stream.id, stream);
    return { streams };
  }
}

/** How long an incident's override lasts: its max_duration, never past samplingOverrideMaxHours. */
export function incidentDuration(incident: Incident, maxHours: number): number {
  return Math.min(incident.max_duration_ms, maxHours * 3_600_000);
}

export interface Raise {
  incident: Incident;
  key: string;
  actor: Actor;
  reason: string;
  /** When the override ends if nothing resolves it. */
  expiresAt: number;
}

/**
 * Holds each stream the incident selects at its rate under the alert's key: a new override, or
 * the same one extended. Throws only when an override could not be stored (503).
 */
export async function raise(
  run: Run,
  delivery: DeliveryStreams,
  request: Raise,
  now: number,
): Promise<StreamResult[]> {
  const { incident, key, actor } = request;
  const { streams, unresolved } = await delivery.of(incident);
  const results: StreamResult[] = [];
  // Here only what must not be lost, in DynamoDB alone: the schedules and the streams come once
  // every alert of the delivery is stored (DeliveryStreams.finish).
  for (const [streamId, listed] of streams) {
    const existing = await delivery.overridesFor(streamId);
    const same = existing.find(
      (each) => each.key === key && !each.released && each.expires_at > now,
    );
    const context = { cause: 'alert', override: key, incident: incident.name };
    if (same) {
      const extended = await extendOverride(same, request.expiresAt, now);
      if (extended) {
        delivery.stored(extended, { stream: listed, actor, context });
        auditOverrideSet(extended, actor, {
          before: extended.sampling_rate,
          after: extended.sampling_rate,
        });
      }
      results.push({
        stream_id: streamId,
        incident: incident.name,
        outcome: 'override-extended',
        detail: `holds until ${formatUtc(extended?.expires_at ?? same.expires_at)}`,
      });
      continue;
    }
    const stream = listed ?? (await delivery.get(streamId));
    // Unknown (ngrok did not answer): taken as governed; no rate to restore is known.
    const governed = stream ? governingRule(run.policy, stream) !== undefined : true;
    const restore = governed
      ? undefined
      : (restoreRate(existing, streamId) ?? stream?.sampling_rate);
    const override: StoredOverride = {
      stream_id: streamId,
      key,
      sampling_rate: incident.sampling_rate,
      starts_at: now,
      expires_at: request.expiresAt,
      created_at: now,
      reason: request.reason,
      actor,
      ...(restore !== undefined ? { restore_rate: restore } : {}),
    };
    const replaced = await putOverride(override);
    auditOverrideSet(override, actor, {
      before: stream?.sampling_rate ?? null,
      after: override.sampling_rate,
    });
    if (replaced && replaced.expires_at <= now && !replaced.released) {
      // An ended override of the same key no run had settled yet: its end, now.
      auditOverrideEnd(replaced, 'expired', actor, {
        before: stream?.sampling_rate ?? null,
        after: override.sampling_rate,
      });
    }
    delivery.stored(override, { stream, actor, context });
    results.push({ stream_id: streamId, incident: incident.name, outcome: 'override-set' });
  }
  if (unresolved) {
    results.push({
      stream_id: '',
      incident: incident.name,
      outcome: 'ignored',
      detail: unresolved,
    });
  }
  return results;
}

/**
 * Sets the stream to its effective rate now: the stream after, or undefined when ngrok did not
 * let it (logged, never thrown).
 */
async function setNow(
  run: Run,
  streamId: string,
  stream: EventStream | undefined,
  overrides: StoredOverride[],
  actor: Actor,
  context: Record<string, unknown>,
): Promise<EventStream | undefined> {
  try {
    const current = stream ?? (await run.ngrok.eventStreams.get(streamId, run.call));
    return (await keepRight(run, current, overrides, actor, context)).stream;
  } catch (error) {
    logger.warn('The stream was not set now: its override is stored, and its run sets it', {
      stream_id: streamId,
      error: failureOf(error),
    });
    return undefined;
  }
}

/**
 * Ends every override of the key (on whichever streams hold one): its resolution. Throws only
 * when an end could not be stored (503).
 */
export async function lower(
  run: Run,
  key: string,
  incident: string,
  actor: Actor,
  target: ScheduleTarget,
  now: number,
  /** The records to look in (default: the run's); the latest read, for a resolution. */
  records: readonly StoredOverride[] = run.overrides,
): Promise<StreamResult[]> {
  const results: StreamResult[] = [];
  const held = records.filter((each) => each.key === key && each.expires_at > now);
  for (const record of held) {
    const end = await endNow(record.stream_id, key, target, now, run.deadline);
    if (!end) continue;
    const { ended, overrides } = end;
    const after = await setNow(run, record.stream_id, undefined, overrides, actor, {
      cause: 'alert',
      override: key,
      released: true,
      incident,
    });
    auditOverrideEnd(ended, 'released', actor, {
      before: ended.sampling_rate,
      after: after?.sampling_rate ?? null,
    });
    // Set right: the record is done. Not set: it stays, and the 15-minute run sets the stream.
    if (after) await removeEnded(ended, Date.now()).catch(() => false);
    results.push({
      stream_id: record.stream_id,
      incident,
      outcome: 'override-ended',
      ...(after
        ? {}
        : { detail: 'ngrok did not take the change now: the 15-minute run sets the stream' }),
    });
  }
  return results;
}

/** Raises the streams of every incident an alert matched, each for its own max_duration. */
export async function raiseAll(
  run: Run,
  delivery: DeliveryStreams,
  incidents: readonly Incident[],
  alert: { key: string; actor: Actor; reason: string },
  timing: { maxHours: number; now: number },
): Promise<StreamResult[]> {
  const streams: StreamResult[] = [];
  // Incidents that select the same stream share the alert's override: the highest rate wins.
  const byRate = [...incidents].sort((a, b) => b.sampling_rate - a.sampling_rate);
  for (const incident of byRate) {
    streams.push(
      ...(await raise(
        run,
        delivery,
        {
          incident,
          key: alert.key,
          actor: alert.actor,
          reason: `${alert.reason} (incident ${incident.name})`.slice(0, 500),
          expiresAt: timing.now + incidentDuration(incident, timing.maxHours),
        },
        timing.now,
      )),
    );
  }
  return streams;
}

const RANK: Record<StreamOutcome, number> = {
  'override-set': 3,
  'override-extended': 2,
  'override-ended': 1,
  ignored: 0,
};

/** What a delivery did, from what it did to each stream: the most that happened. */
export function summaryOutcome(streams: readonly StreamResult[]): StreamOutcome {
  let best: StreamOutcome = 'ignored';
  for (const each of streams) if (RANK[each.outcome] > RANK[best]) best = each.outcome;
  return best;
}

/**
 * Ends the key's overrides on the streams a delivery has just raised: their resolution came
 * while they were stored.
 */
export async function lowerRaised(
  run: Run,
  raised: readonly StreamResult[],
  key: string,
  incident: string,
  actor: Actor,
  target: ScheduleTarget,
): Promise<StreamResult[]> {
  const ids = [...new Set(raised.map((each) => each.stream_id).filter(Boolean))];
  const records = (await Promise.all(ids.map((id) => overridesOf(id)))).flat();
  return lower(run, key, incident, actor, target, Date.now(), records);
}
