/**
 * `npm run sampling:check [file] [-- --from <RFC 3339 instant>]`: validates a sampling policy
 * and prints, per rule, the boundaries of the coming week in local time and UTC, the schedules
 * `serverless package` will deploy, and what daylight saving does to them in the next 24 months.
 * No network, no AWS. Exit 1 on an invalid policy.
 */

import { parseArgs } from 'node:util';
import { formatDuration } from '../lib/sampling/duration.ts';
import { boundariesBetween, rateAt } from '../lib/sampling/evaluate.ts';
import { loadPolicyFile, policyPath } from '../lib/sampling/load.ts';
import {
  boundarySchedules,
  ENFORCE_EXPRESSION,
  enforcedRules,
  gapSchedules,
  repeatedBoundaries,
} from '../lib/sampling/schedules.ts';
import { formatMinutes, type Policy, type Rule, windowName } from '../lib/sampling/types.ts';
import { DAY_MS, formatLocalInstant, startOfWallDay, wallOf } from '../lib/sampling/zone.ts';
import { counted, labelled } from './text.ts';

const USAGE = 'Usage: npm run sampling:check [-- <policy file>] [--from <RFC 3339 instant>]';

let values: { from?: string; help?: boolean };
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const from = values.from === undefined ? Date.now() : Date.parse(values.from);
if (Number.isNaN(from)) {
  console.error(`--from must be an RFC 3339 instant, e.g. 2027-03-22T00:00:00Z.\n${USAGE}`);
  process.exit(2);
}

const file = policyPath(positionals[0] ?? process.env.SAMPLING_POLICY, process.cwd());
let policy: Policy;
try {
  policy = loadPolicyFile(file);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

const utc = (instant: number) => new Date(instant).toISOString().replace(':00.000Z', 'Z');
const local = (instant: number, zone: string) =>
  formatLocalInstant(instant, zone).slice(0, 16).replace('T', ' ');
const weekday = (instant: number, zone: string) =>
  new Date(wallOf(instant, zone)).toLocaleDateString('en-GB', {
    weekday: 'short',
    timeZone: 'UTC',
  });

function describeRule(rule: Rule): string[] {
  const selects = [
    rule.streams.ids.length > 0 ? `ids ${rule.streams.ids.join(', ')}` : '',
    rule.streams.description_prefix !== null
      ? `descriptions starting "${rule.streams.description_prefix}"`
      : '',
  ].filter(Boolean);
  const lines = [
    `rule ${rule.name} (${rule.timezone}${rule.enforce ? ', enforced every 15 minutes' : ''})`,
    `  streams:  ${selects.join('; ')}`,
    `  default:  ${rule.default_rate}`,
  ];
  for (const window of rule.windows) {
    lines.push(
      `  window:   ${windowName(window)}: ${window.days.join(',')} ${formatMinutes(window.start)}-${formatMinutes(window.end)} → ${window.rate}`,
    );
  }
  const start = startOfWallDay(wallOf(from, rule.timezone));
  const boundaries = boundariesBetween(rule, start, start + 7 * DAY_MS);
  lines.push(`  boundaries in the week from ${local(from, rule.timezone).slice(0, 10)}:`);
  if (boundaries.length === 0) lines.push('    none (no windows): the default rate always holds');
  for (const boundary of boundaries) {
    const { rate, window } = rateAt(rule, boundary.at);
    lines.push(
      `    ${weekday(boundary.at, rule.timezone)} ${local(boundary.at, rule.timezone)} ${rule.timezone}  (${utc(boundary.at)})  → ${rate} (${windowName(window) ?? 'default'})`,
    );
  }
  return lines;
}

const out: string[] = [`${file}: valid, ${counted(policy.rules.length, 'rule')}`, ''];
for (const rule of policy.rules) out.push(...describeRule(rule), '');

out.push('schedules `serverless package` deploys (EventBridge Scheduler):');
for (const schedule of boundarySchedules(policy)) {
  out.push(
    `  ${schedule.name.padEnd(32)} ${schedule.expression.padEnd(40)} ${schedule.timezone}  ${labelled('rule', schedule.rules)}`,
  );
}
const enforced = enforcedRules(policy);
out.push(
  `  ${'enforce'.padEnd(32)} ${ENFORCE_EXPRESSION.padEnd(40)} ${enforced.length > 0 ? `${labelled('rule', enforced)}, and ` : ''}the streams whose override started or ended`,
);

const incidents = policy.incidents ?? [];
out.push('', `incidents (alerts that raise streams):${incidents.length === 0 ? ' none' : ''}`);
for (const incident of incidents) {
  const when = [
    incident.when.alertmanager
      ? `Alertmanager/Grafana alerts with ${Object.entries(incident.when.alertmanager.labels)
          .map(([name, value]) => `${name}=${value}`)
          .join(', ')}`
      : undefined,
    incident.when.pagerduty
      ? `PagerDuty incidents on ${incident.when.pagerduty.service_ids.join(', ')}`
      : undefined,
  ].filter(Boolean);
  const streams = [
    incident.streams.ids.length > 0 ? `ids ${incident.streams.ids.join(', ')}` : undefined,
    incident.streams.description_prefix !== null
      ? `description prefix '${incident.streams.description_prefix}'`
      : undefined,
  ].filter(Boolean);
  out.push(
    `  ${incident.name}: ${when.join('; or ')} → ${streams.join(' and ')} at ${incident.sampling_rate.toFixed(2)} until resolved, ${formatDuration(incident.max_duration_ms)} at most`,
  );
}

out.push('', 'daylight saving, the next 24 months:');
const gaps = gapSchedules(policy, from);
const repeated = repeatedBoundaries(policy, from);
for (const gap of gaps) {
  out.push(
    `  warning: ${gap.skipped} ${gap.timezone} does not exist on ${gap.date}: EventBridge Scheduler would skip it; a one-time schedule ${gap.expression} sets it at the end of the gap (${utc(gap.at)})`,
  );
}
for (const each of repeated) {
  out.push(
    `  note: ${each.time} ${each.timezone} occurs twice on ${each.date}: set once, at the first (${utc(each.at)})`,
  );
}
if (gaps.length === 0 && repeated.length === 0)
  out.push('  no boundary falls in a gap or a repeated hour');

console.log(out.join('\n'));
