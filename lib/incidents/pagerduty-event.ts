/**
 * One PagerDuty delivery: triggered or reopened raises the streams of the incidents that name
 * its service (an override keyed `pagerduty:<incident id>`), resolved ends it; any other event
 * does nothing. A delivery seen before (its event.id: PagerDuty retries for 48 hours) does
 * nothing; it is marked seen once handled, so that a delivery that failed is handled again.
 */
import type { Actor } from '../observability/audit.ts';
import type { ScheduleTarget } from '../overrides/schedules.ts';
import { hasMark, putMark } from '../overrides/store.ts';
import type { Run } from '../sampling/run.ts';
import { pagerDutyIncidents } from './match.ts';
import { PAGERDUTY_DELIVERIES, type PagerDutyPayload, RAISING, RESOLVING } from './pagerduty.ts';
import { DeliveryStreams, lower, raiseAll, type StreamResult, summaryOutcome } from './raise.ts';

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
  if (await hasMark(PAGERDUTY_DELIVERIES, event.id)) {
    return {
      ...base,
      outcome: 'duplicate',
      incidents: [],
      streams: [],
      detail: 'this delivery was handled before: nothing changed',
    };
  }
  const result = await handle(run, payload, target, maxHours, now);
  await putMark(PAGERDUTY_DELIVERIES, event.id, now);
  return result;
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
  if (event.event_type === RESOLVING) {
    const streams = await lower(run, key, incidentId, actor, target, now);
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
    { target, maxHours, now },
  );
  const outcome = summaryOutcome(streams);
  return { ...base, outcome, incidents: incidents.map((each) => each.name), streams };
}
