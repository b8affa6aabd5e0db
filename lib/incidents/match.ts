/**
 * Which incidents of the policy an alert belongs to, and which streams an incident raises. Pure.
 * An Alertmanager (or Grafana) alert matches an incident when the incident's labels are a subset
 * of the alert's (real alerts carry more); a PagerDuty incident matches by its service's id.
 */
import type { Incident, Policy, StreamSelector } from '../sampling/types.ts';

/** Whether the selector selects the stream: by id, or by description prefix. */
export function selects(
  selector: StreamSelector,
  stream: { id: string; description: string },
): boolean {
  return (
    selector.ids.includes(stream.id) ||
    (selector.description_prefix !== null &&
      stream.description.startsWith(selector.description_prefix))
  );
}

/** The incidents whose Alertmanager labels all appear, with the same value, in the alert's. */
export function alertIncidents(
  policy: Policy,
  labels: Readonly<Record<string, string>>,
): Incident[] {
  return (policy.incidents ?? []).filter((incident) => {
    const wanted = incident.when.alertmanager?.labels;
    return (
      wanted !== undefined &&
      Object.entries(wanted).every(
        ([name, value]) => Object.hasOwn(labels, name) && labels[name] === value,
      )
    );
  });
}

/** The incidents that name the PagerDuty service. */
export function pagerDutyIncidents(policy: Policy, serviceId: string): Incident[] {
  return (policy.incidents ?? []).filter(
    (incident) => incident.when.pagerduty?.service_ids.includes(serviceId) ?? false,
  );
}
