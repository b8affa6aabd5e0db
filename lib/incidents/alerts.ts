/**
 * One Alertmanager (or Grafana) delivery, alert by alert: a firing alert raises the streams of
 * the incidents its labels match (./raise.ts); a resolved one ends what its firing set and
 * leaves a mark, so that a firing of the same alert arriving after it does nothing. Resolutions
 * are marked before any override is read, and a firing looks for the mark again after it stored
 * its overrides: of a firing and its resolution delivered at the same moment, one always sees
 * the other.
 */
import type { Actor } from '../observability/audit.ts';
import type { ScheduleTarget } from '../overrides/schedules.ts';
import { allOverrides, hasMark, overridesOf, putMark } from '../overrides/store.ts';
import type { Run } from '../sampling/run.ts';
import {
  type Alert,
  type AlertmanagerPayload,
  alertKey,
  alertName,
  RESOLVED_MARKS,
} from './alertmanager.ts';
import { alertIncidents } from './match.ts';
import { DeliveryStreams, lower, raiseAll, type StreamResult, summaryOutcome } from './raise.ts';

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
  for (const alert of resolved) await putMark(RESOLVED_MARKS, alertKey(alert), now);
  // Read after the marks: a firing stored before them is found and ended.
  const latest = resolved.length > 0 ? await allOverrides() : run.overrides;
  const delivery = new DeliveryStreams(run);
  const results: AlertResult[] = [];
  for (const alert of payload.alerts) {
    results.push(await handleAlert(run, delivery, alert, latest, target, maxHours, now));
  }
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
  if (incidents.length === 0) {
    return {
      ...base,
      outcome: 'no-incident',
      streams: [],
      detail: 'no incident of the sampling policy matches its labels: nothing changed',
    };
  }
  const actor: Actor = { kind: 'alertmanager', name: alertname };
  const names = base.incidents.join(', ');
  if (alert.status === 'resolved') {
    const streams = await lower(run, key, names, actor, target, now, latest);
    return streams.length > 0
      ? { ...base, outcome: 'override-ended', streams }
      : {
          ...base,
          outcome: 'ignored',
          streams,
          detail:
            'no override of this alert holds (it resolved before it fired, or is over): nothing changed',
        };
  }
  if (await hasMark(RESOLVED_MARKS, key)) {
    return {
      ...base,
      outcome: 'ignored',
      streams: [],
      detail: 'this alert (its fingerprint and startsAt) has already resolved: nothing changed',
    };
  }
  const streams = await raiseAll(
    run,
    delivery,
    incidents,
    { key, actor, reason: alertname },
    { target, maxHours, now },
  );
  // Its resolution may have come meanwhile: then end what was just stored.
  if (await hasMark(RESOLVED_MARKS, key)) {
    const ids = [...new Set(streams.map((each) => each.stream_id).filter(Boolean))];
    const records = (await Promise.all(ids.map((id) => overridesOf(id)))).flat();
    const ended = await lower(run, key, names, actor, target, Date.now(), records);
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
