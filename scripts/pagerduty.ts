/**
 * `npm run pagerduty -- triggered --service PABC123` (or `reopened`/`resolved --incident <id>`):
 * sends the running local stack a PagerDuty v3 webhook event, signed with its webhook secret, and
 * prints the answer. `triggered` makes a new incident and prints its id. `--secret <other>`
 * signs with another secret, `--unsigned` sends no signature: what a forged delivery gets.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pagerDutySignature } from '../lib/incidents/pagerduty.ts';
import { findLocalStack } from './local-stack.ts';

const USAGE =
  'Usage: npm run pagerduty -- triggered|reopened|resolved [--service <id>] [--incident <id>] [--secret <secret> | --unsigned]';

let values: {
  service?: string;
  incident?: string;
  secret?: string;
  unsigned?: boolean;
  help?: boolean;
};
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      service: { type: 'string', default: 'PABC123' },
      incident: { type: 'string' },
      secret: { type: 'string' },
      unsigned: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const [kind] = positionals;
if (
  values.help ||
  !['triggered', 'reopened', 'resolved'].includes(kind ?? '') ||
  positionals.length !== 1
) {
  (values.help ? console.log : console.error)(USAGE);
  process.exit(values.help ? 0 : 2);
}
if (kind !== 'triggered' && !values.incident) {
  console.error(`\`${kind}\` needs --incident <id>: the id \`triggered\` printed.\n${USAGE}`);
  process.exit(2);
}
const found = findLocalStack();
if ('problem' in found) {
  console.error(found.problem);
  process.exit(1);
}
const { state } = found;

const incident = values.incident ?? `Q${randomBytes(8).toString('hex').toUpperCase().slice(0, 13)}`;
const body = JSON.stringify({
  event: {
    id: randomUUID(),
    event_type: `incident.${kind}`,
    resource_type: 'incident',
    occurred_at: new Date().toISOString(),
    agent: null,
    client: null,
    data: {
      id: incident,
      type: 'incident',
      self: `https://api.pagerduty.com/incidents/${incident}`,
      number: 4211,
      status: kind === 'resolved' ? 'resolved' : 'triggered',
      title: 'npm run pagerduty',
      service: {
        id: values.service,
        type: 'service_reference',
        summary: 'local',
        self: `https://api.pagerduty.com/services/${values.service}`,
      },
      urgency: 'high',
    },
  },
});
const secret = values.secret ?? state.alerts?.pagerduty_secret ?? '';
const started = Date.now();
const response = await fetch(`${state.apiUrl}/hooks/pagerduty`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'user-agent': 'PagerDuty-Webhook/V3.0',
    ...(values.unsigned
      ? {}
      : { 'x-pagerduty-signature': pagerDutySignature(secret, Buffer.from(body)) }),
  },
  body,
});
const text = await response.text();
console.log(`HTTP ${response.status} in ${Date.now() - started} ms (incident ${incident})`);
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
process.exit(response.ok ? 0 : 1);
