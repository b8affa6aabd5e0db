/**
 * Alertmanager's webhook payload (version 4) and Grafana's webhook contact point (the same shape
 * and fields of its own, version 1), and what each alert of it does. Each alert is decided alone,
 * by its own `status` — never by `endsAt` (a firing alert's is 0001-01-01), never by the
 * payload's (it is `firing` while some alerts in it are resolved). An alert's override is keyed
 * `alertmanager:<fingerprint>:<startsAt>` (the fingerprint hashes the labels alone: the same
 * labels firing again after a resolution keep it, with a new startsAt). A resolution leaves a
 * mark, so that a `firing` of the same alert that comes after it (an HA pair, a late retry)
 * does nothing.
 */
import * as z from 'zod/mini';

const text = z.string({ error: 'must be a string' });
const stringMap = z.record(z.string(), z.string({ error: 'must be a string' }), {
  error: 'must be a map of strings',
});

const Alert = z.object({
  status: z.enum(['firing', 'resolved'], { error: 'must be firing or resolved' }),
  labels: stringMap,
  annotations: z.optional(stringMap),
  startsAt: text.check(
    z.refine((value) => instantKey(value) !== undefined, {
      error: 'must be an RFC 3339 instant',
    }),
  ),
  endsAt: z.optional(text),
  generatorURL: z.optional(text),
  fingerprint: text.check(
    z.regex(/^[0-9A-Za-z_.-]{1,64}$/, { error: 'must be 1 to 64 letters, digits, _ . or -' }),
  ),
});

/** At most this many alerts in one payload (Alertmanager's own max_alerts is unlimited). */
export const MAX_ALERTS = 1_000;

export const AlertmanagerPayload = z
  .object({
    version: z.enum(['4', '1'], {
      error: 'must be "4" (Alertmanager) or "1" (Grafana): other versions are not known',
    }),
    groupKey: z.optional(text),
    truncatedAlerts: z.optional(z.int({ error: 'must be a whole number' }).check(z.gte(0))),
    status: z.optional(z.enum(['firing', 'resolved'], { error: 'must be firing or resolved' })),
    receiver: z.optional(text),
    groupLabels: z.optional(stringMap),
    commonLabels: z.optional(stringMap),
    commonAnnotations: z.optional(stringMap),
    externalURL: z.optional(text),
    alerts: z
      .array(Alert, { error: 'must be a list of alerts' })
      .check(z.maxLength(MAX_ALERTS, { error: `must hold at most ${MAX_ALERTS} alerts` })),
  })
  .check(
    z.describe(
      "Alertmanager's webhook payload, version 4; Grafana's webhook contact point (version 1) is accepted too. Fields not listed are ignored.",
    ),
  );
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;
export type Alert = z.infer<typeof Alert>;

const RFC_3339 =
  /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An instant as one comparable text, whatever its precision or offset: UTC, to the nanosecond,
 * trailing zeros dropped (`2026-12-05T12:00:00.1Z` for `…12:00:00.100000000Z` and for
 * `…13:00:00.1+01:00`). Undefined when it is not an RFC 3339 instant.
 */
export function instantKey(value: string): string | undefined {
  const match = RFC_3339.exec(value);
  if (!match) return undefined;
  const [, date, time, fraction = '', offset] = match;
  const seconds = Date.parse(`${date}T${time}${offset === 'z' ? 'Z' : offset}`);
  if (Number.isNaN(seconds)) return undefined;
  const nanos = fraction.padEnd(9, '0').replace(/0+$/, '');
  return `${new Date(seconds).toISOString().slice(0, 19)}${nanos ? `.${nanos}` : ''}Z`;
}

/** The key of an alert's overrides, and of its resolution's mark. */
export function alertKey(alert: Pick<Alert, 'fingerprint' | 'startsAt'>): string {
  return `alertmanager:${alert.fingerprint}:${instantKey(alert.startsAt)}`;
}

/** The partition of the resolutions' marks. */
export const RESOLVED_MARKS = '#alertmanager-resolved';

/** The alert's name for people and the audit lines: its alertname label, or its fingerprint. */
export function alertName(alert: Pick<Alert, 'labels' | 'fingerprint'>): string {
  return alert.labels.alertname ?? alert.fingerprint;
}
