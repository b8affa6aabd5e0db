import type { Actor } from '../observability/audit.ts';
import type { ScheduleTarget } from '../overrides/schedules.ts';
import { allOverrides, markedAt, markLatest, putMark } from '../overrides/store.ts';
import type { Run } from '../sampling/run.ts';
import { pagerDutyIncidents } from './match.ts';
import {
  PAGERDUTY_DELIVERIES,
  PAGERDUTY_RESOLVED,
  type PagerDutyPayload,
  RAISING,
  RESOLVING,
} from './pagerduty.ts';
import {
  DeliveryStreams,
  lower,
  lowerRaised,
  raiseAll,
  type StreamResult,
  summaryOutcome,
} from './raise.ts';

export interface PagerDutyResult {
  event_id: string;
  event_type: string;
  outcome:
    | 'override-set'
    | 'override-extended'
    | 'override-ended'
    | 'no-incident'
    | 'ignored'
    | 'duplicate';
  incidents: string[];
  streams: StreamResult[];
  detail?: string;
}

export async function handlePagerDuty(
  run: Run,
  payload: PagerDutyPayload,
  target: ScheduleTarget,
  maxHours: number,
  now: number,
): Promise<PagerDutyResult> {
  const { event } = payload;
  const base = { event_id: event.id, event_type: event.event_type };
  if ((await markedAt(PAGERDUTY_DELIVERIES, event.id)) !== undefined) {
    return {
      ...base,
      outcome: 'duplicate',
      incidents: [],
      streams: [],
      detail: 'this delivery was handled before: nothing changed',
    };
  }
  const result = await handle(run, payload, target, maxHours, now);
  // Seen: only the events that change something (the others leave no record).
  if (result.outcome !== 'ignored' || event.event_type === RESOLVING) {
    await putMark(PAGERDUTY_DELIVERIES, event.id, now);
  }
  return result;
}

/** When the event happened (PagerDuty's occurred_at), else when it came. */
function occurredAt(event: PagerDutyPayload['event'], now: number): number {
  const at = event.occurred_at === undefined ? Number.NaN : Date.parse(event.occurred_at);
  return Number.isNaN(at) ? now : at;
}

async function handle(
  run: Run,
  { event }: PagerDutyPayload,
  target: ScheduleTarget,
  maxHours: number,
  now: number,
): Promise<PagerDutyResult> {
  const base = { event_id: event.id, event_type: event.event_type };
  const incidentId = event.data?.id;
  if (!(RAISING.has(event.event_type) || event.event_type === RESOLVING) || !incidentId) {
    return {
      ...base,
      outcome: 'ignored',
      incidents: [],
      streams: [],
      detail: `${event.event_type} changes no sampling`,
    };
  }
  const key = `pagerduty:${incidentId}`;
  const actor: Actor = {
    kind: 'pagerduty',
    name: event.data?.number !== undefined ? `#${event.data.number}` : incidentId,
  };
  const at = occurredAt(event, now);
  if (event.event_type === RESOLVING) {
    // Marked first, then the overrides read: a trigger stored meanwhile is found and ended, and
    // one that comes later (a retry, out of order) sees that its incident resolved after it.
    await markLatest(PAGERDUTY_RESOLVED, incidentId, at);
    const streams = await lower(run, key, incidentId, actor, target, now, await allOverrides());
    return streams.length > 0
      ? { ...base, outcome: 'override-ended', incidents: [], streams }
      : {
          ...base,
          outcome: 'ignored',
          incidents: [],
          streams,
          detail: 'no override of this incident holds: nothing changed',
        };
  }
  const serviceId = event.data?.service?.id;
  const incidents = serviceId ? pagerDutyIncidents(run.policy, serviceId) : [];
  if (incidents.length === 0) {
    return {
      ...base,
      outcome: 'no-incident',
      incidents: [],
      streams: [],
      detail: `no incident of the sampling policy names service ${serviceId ?? '(none)'}: nothing changed`,
    };
  }
  const resolved = await markedAt(PAGERDUTY_RESOLVED, incidentId);
  if (resolved !== undefined && resolved >= at) {
    return {
      ...base,
      outcome: 'ignored',
      incidents: incidents.map((each) => each.name),
      streams: [],
      detail: 'the incident resolved after this event: nothing is raised',
    };
  }
  const delivery = new DeliveryStreams(run);
  const streams = await raiseAll(
    run,
    delivery,
    incidents,
    {
      key,
      actor,
      reason: `PagerDuty ${actor.name}${event.data?.title ? ` ${event.data.title}` : ''}`,
    },
    { maxHours, now },
  );
  await delivery.finish(target, now);
  const names = incidents.map((each) => each.name);
  // Its resolution may have come meanwhile: then end what was just stored.
  const resolvedNow = await markedAt(PAGERDUTY_RESOLVED, incidentId);
  if (resolvedNow !== undefined && resolvedNow >= at) {
    const ended = await lowerRaised(run, streams, key, incidentId, actor, target);
    return {
      ...base,
      outcome: 'override-ended',
      incidents: names,
      streams: ended,
      detail: 'resolved while it was set',
    };
  }
  delivery.requireAllStored();
  return { ...base, outcome: summaryOutcome(streams), incidents: names, streams };
}
