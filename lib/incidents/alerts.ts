/**
 * One Alertmanager (or Grafana) delivery, alert by alert: a firing alert raises the streams of
 * the incidents its labels match (./raise.ts); a resolved one ends what its firing set and
 * leaves a mark, so that a firing of the same alert arriving after it does nothing. Resolutions
 * are marked before any override is read, and a firing looks for the mark again after it stored
 * its overrides: of a firing and its resolution delivered at the same moment, one always sees
 * the other.
 */
import { problem } from '../http/problem.ts';
import type { Actor } from '../observability/audit.ts';
import type { ScheduleTarget } from '../overrides/schedules.ts';
import { allOverrides, markedAt, putMark } from '../overrides/store.ts';
import type { Run } from '../sampling/run.ts';
import {
  type Alert,
  type AlertmanagerPayload,
  alertKey,
  alertName,
  RESOLVED_MARKS,
} from './alertmanager.ts';
import { alertIncidents } from './match.ts';
import {
  DeliveryStreams,
  lower,
  lowerRaised,
  raiseAll,
  type StreamResult,
  summaryOutcome,
} from './raise.ts';

export type AlertOutcome =
  | 'override-set'
  | 'override-extended'
  | 'override-ended'
  | 'no-incident'
  | 'ignored';

export interface AlertResult {
  fingerprint: string;
  alertname: string;
  status: Alert['status'];
  outcome: AlertOutcome;
  incidents: string[];
  streams: StreamResult[];
  /** Why, for `no-incident` and `ignored`. */
  detail?: string;
}

export async function handleAlertmanager(
  run: Run,
  payload: AlertmanagerPayload,
  target: ScheduleTarget,
  maxHours: number,
  now: number,
): Promise<AlertResult[]> {
  const resolved = payload.alerts.filter((alert) => alert.status === 'resolved');
  // A mark only where a late firing could raise something: alerts an incident matches.
  for (const alert of resolved) {
    if (alertIncidents(run.policy, alert.labels).length > 0) {
      await putMark(RESOLVED_MARKS, alertKey(alert), now);
    }
  }
  // Read after the marks: a firing stored before them is found and ended.
  const latest = resolved.length > 0 ? await allOverrides() : run.overrides;
  const delivery = new DeliveryStreams(run);
  const results: AlertResult[] = [];
  for (const [index, alert] of payload.alerts.entries()) {
    // Time kept for the schedules, the streams and the answer (the first alert is always tried).
    if (index > 0 && Date.now() >= run.deadline - 1_500) {
      throw problem(
        'overrides-unavailable',
        `${index} of ${payload.alerts.length} alerts were handled before the time ran out (the others were not): send the payload again — what was done is not done twice.`,
        { headers: { 'Retry-After': '5' } },
      );
    }
    results.push(await handleAlert(run, delivery, alert, latest, target, maxHours, now));
  }
  await delivery.finish(target, now);
  delivery.requireAllStored();
  return results;
}

async function handleAlert(
  run: Run,
  delivery: DeliveryStreams,
  alert: Alert,
  latest: Awaited<ReturnType<typeof allOverrides>>,
  target: ScheduleTarget,
  maxHours: number,
  now: number,
): Promise<AlertResult> {
  const key = alertKey(alert);
  const alertname = alertName(alert);
  const incidents = alertIncidents(run.policy, alert.labels);
  const base = {
    fingerprint: alert.fingerprint,
    alertname,
    status: alert.status,
    incidents: incidents.map((incident) => incident.name),
  };
  const actor: Actor = { kind: 'alertmanager', name: alertname };
  const names = base.incidents.join(', ');
  if (alert.status === 'resolved') {
    // Whatever the policy says now: what its firing set ends.
    const streams = await lower(run, key, names, actor, target, now, latest);
    if (streams.length > 0) return { ...base, outcome: 'override-ended', streams };
    if (incidents.length > 0) {
      return {
        ...base,
        outcome: 'ignored',
        streams,
        detail:
          'no override of this alert holds (it resolved before it fired, or is over): nothing changed',
      };
    }
  }
  if (incidents.length === 0) {
    return {
      ...base,
      outcome: 'no-incident',
      streams: [],
      detail: 'no incident of the sampling policy matches its labels: nothing changed',
    };
  }
  if ((await markedAt(RESOLVED_MARKS, key)) !== undefined) {
    // A firing stored before its resolution, and cut short before it saw the mark: end it now.
    const ended = await lower(run, key, names, actor, target, now, latest);
    return {
      ...base,
      outcome: ended.length > 0 ? 'override-ended' : 'ignored',
      streams: ended,
      detail: 'this alert (its fingerprint and startsAt) has already resolved: nothing is raised',
    };
  }
  const streams = await raiseAll(
    run,
    delivery,
    incidents,
    { key, actor, reason: alertname },
    { maxHours, now },
  );
  // Its resolution may have come meanwhile: then end what was just stored.
  if ((await markedAt(RESOLVED_MARKS, key)) !== undefined) {
    const ended = await lowerRaised(run, streams, key, names, actor, target);
    return {
      ...base,
      outcome: 'override-ended',
      streams: ended,
      detail: 'resolved while it was set',
    };
  }
  if (streams.length === 0) {
    return {
      ...base,
      outcome: 'ignored',
      streams,
      detail: 'its incidents select no stream ngrok has',
    };
  }
  return { ...base, outcome: summaryOutcome(streams), streams };
}
