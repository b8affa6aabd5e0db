/**
 * The sampling policy (sampling-schedule.yml): its schema, the checks that span fields, and the
 * normalised form everything else reads. Pure: no file, no YAML (see ./load.ts for those).
 *
 * - A window holds on [start, end) local time in its rule's zone, on each of its days; `24:00`
 *   is the end of the day; `start == end` is refused. A window with `end <= start` crosses
 *   midnight and belongs to its start day.
 * - Windows of one rule must not overlap.
 * - A stream is governed by the most specific rule that selects it: an id beats any prefix, a
 *   longer prefix beats a shorter one; the same id or the same prefix in two rules is refused.
 */
import * as z from 'zod/mini';
import { eventStreamId, SAMPLING_RATE_MAX, SAMPLING_RATE_MIN } from '../ngrok/schemas.ts';
import { parseIsoDuration } from './duration.ts';
import { DAYS, formatMinutes, type Policy, type Window } from './types.ts';
import { isTimeZone } from './zone.ts';

export {
  DAYS,
  type Day,
  type Incident,
  type Policy,
  type Rule,
  type Window,
} from './types.ts';

const TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const END_TIME = /^(?:([01]?\d|2[0-3]):([0-5]\d)|(24):(00))$/;

const rate = z
  .number({ error: 'must be a number' })
  .check(
    z.gte(SAMPLING_RATE_MIN, { error: `must be at least ${SAMPLING_RATE_MIN}` }),
    z.lte(SAMPLING_RATE_MAX, { error: `must be at most ${SAMPLING_RATE_MAX}` }),
    z.describe(`A sampling_rate, ${SAMPLING_RATE_MIN} to ${SAMPLING_RATE_MAX}.`),
  );

const zone = z.string({ error: 'must be an IANA time zone name, e.g. Europe/Berlin' }).check(
  z.refine(isTimeZone, {
    error: 'is not an IANA time zone this runtime knows (e.g. Europe/Berlin)',
  }),
  z.describe('An IANA time zone, e.g. Europe/Berlin.'),
);

const streamsSelector = (what: string) =>
  z
    .strictObject({
      ids: z.optional(z.array(eventStreamId, { error: 'must be a list of Event Stream ids' })),
      description_prefix: z.optional(
        z
          .string({ error: 'must be a string' })
          .check(z.minLength(1, { error: 'must not be empty' })),
      ),
    })
    .check(z.describe(`Which streams the ${what}: ids, a description prefix, or both.`));

export const WindowSchema = z.strictObject({
  name: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(z.describe('Names the window in plans and logs.')),
  ),
  days: z
    .array(z.enum(DAYS, { error: `must be one of ${DAYS.join(', ')}` }), {
      error: `must be a list of days: ${DAYS.join(', ')}`,
    })
    .check(
      z.minLength(1, { error: 'must name at least one day' }),
      z.describe('The days the window starts on.'),
    ),
  start: z
    .string({ error: 'must be a time "HH:MM" (quote it)' })
    .check(
      z.regex(TIME, { error: 'must be a time HH:MM from 00:00 to 23:59' }),
      z.describe('Local time the window starts, HH:MM.'),
    ),
  end: z
    .string({ error: 'must be a time "HH:MM" (quote it)' })
    .check(
      z.regex(END_TIME, { error: 'must be a time HH:MM from 00:00 to 24:00' }),
      z.describe(
        'Local time the window ends, HH:MM or 24:00; at or before start: the next day (it crosses midnight).',
      ),
    ),
  rate,
});

export const RuleSchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).check(
    z.regex(/^[a-z0-9-]{1,64}$/, {
      error: 'must be 1 to 64 lower-case letters, digits and hyphens',
    }),
    z.describe('Unique; names the rule in plans, logs and schedules.'),
  ),
  timezone: z.optional(zone),
  streams: streamsSelector('rule governs'),
  default_rate: rate.check(z.describe('The rate outside every window.')),
  enforce: z.optional(
    z
      .boolean({ error: 'must be true or false' })
      .check(z.describe('true: also corrected every 15 minutes, not only at boundaries.')),
  ),
  windows: z.optional(z.array(WindowSchema, { error: 'must be a list of windows' })),
});

/** The longest an incident's override may last (samplingOverrideMaxHours allows at most 720 h). */
export const MAX_INCIDENT_HOURS = 720;

export const IncidentSchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).check(
    z.regex(/^[a-z0-9-]{1,64}$/, {
      error: 'must be 1 to 64 lower-case letters, digits and hyphens',
    }),
    z.describe('Unique; names the incident in answers, logs and audit lines.'),
  ),
  when: z
    .strictObject({
      alertmanager: z.optional(
        z.strictObject({
          labels: z
            .record(z.string(), z.string({ error: 'must be a string (quote numbers)' }), {
              error: 'must be a map of label names to values',
            })
            .check(
              z.refine((labels) => Object.keys(labels).length > 0, {
                error: 'must name at least one label',
              }),
              z.describe(
                'Alertmanager or Grafana alerts whose labels include all of these (an alert may carry more).',
              ),
            ),
        }),
      ),
      pagerduty: z.optional(
        z.strictObject({
          service_ids: z
            .array(
              z.string({ error: 'must be a string' }).check(
                z.regex(/^P[A-Z0-9]{1,19}$/, {
                  error: 'must be a PagerDuty service id, e.g. PABC123',
                }),
              ),
              { error: 'must be a list of PagerDuty service ids' },
            )
            .check(z.minLength(1, { error: 'must name at least one service' })),
        }),
      ),
    })
    .check(
      z.describe(
        'Which alerts raise the streams: Alertmanager labels, PagerDuty services, or both.',
      ),
    ),
  streams: streamsSelector('incident raises'),
  sampling_rate: rate.check(z.describe('The rate while the incident lasts.')),
  max_duration: z
    .string({ error: 'must be an ISO 8601 duration, e.g. PT6H' })
    .check(
      z.describe(
        'How long its override lasts at most if the resolution never comes (ISO 8601, e.g. PT6H): at most samplingOverrideMaxHours.',
      ),
    ),
});

export const PolicySchema = z.strictObject({
  timezone: zone,
  rules: z.array(RuleSchema, { error: 'must be a list of rules' }),
  incidents: z.optional(z.array(IncidentSchema, { error: 'must be a list of incidents' })),
});
export type PolicyInput = z.infer<typeof PolicySchema>;

export interface PolicyIssue {
  /** Where in the file: e.g. ['rules', 0, 'windows', 1, 'start']. */
  path: (string | number)[];
  message: string;
}

export class PolicyError extends Error {
  readonly issues: PolicyIssue[];

  constructor(message: string, issues: PolicyIssue[]) {
    super(message);
    this.name = 'PolicyError';
    this.issues = issues;
  }
}

function minutesOf(time: string): number {
  const [hours, minutes] = time.split(':').map(Number) as [number, number];
  return hours * 60 + minutes;
}

const WEEK_MINUTES = 7 * 1440;

/** The minutes of the week a window holds, as [from, to) pieces (a week wraps). */
function weekIntervals(window: Window): [number, number][] {
  const pieces: [number, number][] = [];
  for (const day of window.days) {
    const from = DAYS.indexOf(day) * 1440 + window.start;
    const to =
      DAYS.indexOf(day) * 1440 + (window.end > window.start ? window.end : window.end + 1440);
    if (to <= WEEK_MINUTES) pieces.push([from, to]);
    else pieces.push([from, WEEK_MINUTES], [0, to - WEEK_MINUTES]);
  }
  return pieces;
}

function formatWeekMinute(minute: number): string {
  return `${DAYS[Math.floor(minute / 1440)]} ${formatMinutes(minute % 1440)}`;
}

export function windowLabel(window: { name?: string | null }, index: number): string {
  return window.name ? `'${window.name}'` : `#${index + 1}`;
}

/** Checks that span fields, on input that has the schema's shape. */
function crossFieldIssues(input: PolicyInput): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const ruleNames = new Map<string, number>();
  const idOwners = new Map<string, number>();
  const prefixOwners = new Map<string, number>();
  input.rules.forEach((rule, ruleIndex) => {
    const at = (...path: (string | number)[]) => ['rules', ruleIndex, ...path];
    const firstWithName = ruleNames.get(rule.name);
    if (firstWithName !== undefined) {
      issues.push({
        path: at('name'),
        message: `'${rule.name}' is already the name of rules[${firstWithName}]`,
      });
    } else {
      ruleNames.set(rule.name, ruleIndex);
    }
    const { ids, description_prefix: prefix } = rule.streams;
    if ((ids === undefined || ids.length === 0) && prefix === undefined) {
      issues.push({
        path: at('streams'),
        message: 'must select streams: ids, description_prefix or both',
      });
    }
    for (const id of new Set(ids ?? [])) {
      const owner = idOwners.get(id);
      if (owner !== undefined && owner !== ruleIndex) {
        issues.push({
          path: at('streams', 'ids'),
          message: `${id} is also selected by id in rules[${owner}] '${input.rules[owner]?.name}': a stream can have one rule`,
        });
      } else idOwners.set(id, ruleIndex);
    }
    if (prefix !== undefined) {
      const owner = prefixOwners.get(prefix);
      if (owner !== undefined) {
        issues.push({
          path: at('streams', 'description_prefix'),
          message: `'${prefix}' is also the prefix of rules[${owner}] '${input.rules[owner]?.name}': equally specific rules for the same streams are refused`,
        });
      } else prefixOwners.set(prefix, ruleIndex);
    }
    const windows = (rule.windows ?? []).map((window) => normaliseWindow(window));
    windows.forEach((window, index) => {
      if (window.start === window.end % 1440 && window.end !== 1440) {
        issues.push({
          path: at('windows', index, 'end'),
          message: 'equals start: a window needs a length (00:00 to 24:00 is the whole day)',
        });
      }
    });
    for (let first = 0; first < windows.length; first++) {
      for (let second = first + 1; second < windows.length; second++) {
        const shared = sharedMinute(windows[first] as Window, windows[second] as Window);
        if (shared !== undefined) {
          issues.push({
            path: at('windows', second),
            message: `overlaps window ${windowLabel(windows[first] as Window, first)}: both hold at ${formatWeekMinute(shared)}`,
          });
        }
      }
    }
  });
  return issues;
}

/** The incidents' own checks: unique names, a trigger and streams each, a valid max_duration. */
function incidentIssues(input: PolicyInput): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const names = new Map<string, number>();
  (input.incidents ?? []).forEach((incident, index) => {
    const at = (...path: (string | number)[]) => ['incidents', index, ...path];
    const first = names.get(incident.name);
    if (first !== undefined) {
      issues.push({
        path: at('name'),
        message: `'${incident.name}' is already the name of incidents[${first}]`,
      });
    } else names.set(incident.name, index);
    if (!incident.when.alertmanager && !incident.when.pagerduty) {
      issues.push({
        path: at('when'),
        message: 'must name alertmanager labels, pagerduty service_ids or both',
      });
    }
    const { ids, description_prefix: prefix } = incident.streams;
    if ((ids === undefined || ids.length === 0) && prefix === undefined) {
      issues.push({
        path: at('streams'),
        message: 'must select streams: ids, description_prefix or both',
      });
    }
    const duration = parseIsoDuration(incident.max_duration);
    if ('invalid' in duration) {
      issues.push({ path: at('max_duration'), message: duration.invalid });
    } else if (duration.ms < 60_000) {
      issues.push({ path: at('max_duration'), message: 'must be at least 1 minute (PT1M)' });
    } else if (duration.ms > MAX_INCIDENT_HOURS * 3_600_000) {
      issues.push({
        path: at('max_duration'),
        message: `must be at most ${MAX_INCIDENT_HOURS} hours`,
      });
    }
  });
  return issues;
}

function sharedMinute(a: Window, b: Window): number | undefined {
  for (const [aFrom, aTo] of weekIntervals(a)) {
    for (const [bFrom, bTo] of weekIntervals(b)) {
      const from = Math.max(aFrom, bFrom);
      if (from < Math.min(aTo, bTo)) return from;
    }
  }
  return undefined;
}

function normaliseWindow(window: z.infer<typeof WindowSchema>): Window {
  return {
    name: window.name ?? null,
    days: [...new Set(window.days)].sort((a, b) => DAYS.indexOf(a) - DAYS.indexOf(b)),
    start: minutesOf(window.start),
    end: minutesOf(window.end),
    rate: window.rate,
  };
}

function invalid(issues: PolicyIssue[]): PolicyError {
  const lines = issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  return new PolicyError(`The sampling policy is not valid:\n  ${lines.join('\n  ')}`, issues);
}

/**
 * The policy in `input` (already parsed from YAML or JSON), normalised; or a PolicyError that
 * lists every problem with where it is.
 */
export function validatePolicy(input: unknown): Policy {
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({
      path: issue.path.map((part) => (typeof part === 'number' ? part : String(part))),
      message:
        issue.code === 'unrecognized_keys'
          ? `has unknown field(s) ${issue.keys.join(', ')}`
          : issue.message,
    }));
    throw invalid(issues);
  }
  const issues = [...crossFieldIssues(parsed.data), ...incidentIssues(parsed.data)];
  if (issues.length > 0) throw invalid(issues);
  return {
    timezone: parsed.data.timezone,
    rules: parsed.data.rules.map((rule) => ({
      name: rule.name,
      timezone: rule.timezone ?? parsed.data.timezone,
      streams: {
        ids: [...new Set(rule.streams.ids ?? [])],
        description_prefix: rule.streams.description_prefix ?? null,
      },
      default_rate: rule.default_rate,
      enforce: rule.enforce ?? false,
      windows: (rule.windows ?? []).map(normaliseWindow),
    })),
    incidents: (parsed.data.incidents ?? []).map((incident) => ({
      name: incident.name,
      when: {
        alertmanager: incident.when.alertmanager
          ? { labels: incident.when.alertmanager.labels }
          : null,
        pagerduty: incident.when.pagerduty
          ? { service_ids: [...new Set(incident.when.pagerduty.service_ids)] }
          : null,
      },
      streams: {
        ids: [...new Set(incident.streams.ids ?? [])],
        description_prefix: incident.streams.description_prefix ?? null,
      },
      sampling_rate: incident.sampling_rate,
      max_duration_ms: (parseIsoDuration(incident.max_duration) as { ms: number }).ms,
    })),
  };
}

/** The policy file's JSON Schema (sampling-schedule.schema.json), for editors. */
export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PolicySchema, { io: 'input' }),
    title: 'ngrok Event Streams sampling schedule (sampling-schedule.yml)',
    description:
      "Which Event Streams get which sampling_rate at which local time. Windows hold on [start, end) in the rule's zone; end <= start crosses midnight; windows of a rule must not overlap; an id beats a prefix, a longer prefix a shorter one.",
  };
}
