/**
 * The normalised sampling policy: what the evaluator, the runs and the functions read (no zod
 * here, so that functions carry none of the validation code; see ./policy.ts for that).
 */

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

/** A window: minutes of the local day; `end` 1..1440, crossing midnight if <= start. */
export interface Window {
  name: string | null;
  days: Day[];
  start: number;
  end: number;
  rate: number;
}

export interface Rule {
  name: string;
  timezone: string;
  streams: { ids: string[]; description_prefix: string | null };
  default_rate: number;
  enforce: boolean;
  windows: Window[];
}

/** Which streams a rule or an incident selects: by id, by description prefix, or both. */
export interface StreamSelector {
  ids: string[];
  description_prefix: string | null;
}

/** An incident: which alerts raise which streams, to what rate, for how long at most. */
export interface Incident {
  name: string;
  when: {
    /** Alertmanager (or Grafana) alerts whose labels include all of these. */
    alertmanager: { labels: Record<string, string> } | null;
    /** PagerDuty incidents on one of these services. */
    pagerduty: { service_ids: string[] } | null;
  };
  streams: StreamSelector;
  sampling_rate: number;
  /** How long an override it sets lasts at most, in ms, if its resolution never comes. */
  max_duration_ms: number;
}

export interface Policy {
  timezone: string;
  rules: Rule[];
  /** Alerts that raise streams (the `incidents` section); none when the file has none. */
  incidents?: Incident[];
}

/** `06:00` from minutes of the day (1440 is `24:00`). */
export function formatMinutes(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A window's name in answers and messages: its own, or its hours. */
export function windowName(window: Window | null): string | null {
  if (window === null) return null;
  return window.name ?? `${formatMinutes(window.start)}-${formatMinutes(window.end)}`;
}
