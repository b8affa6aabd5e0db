/**
 * `npm run alert -- firing|resolved --labels service=checkout,severity=critical`: sends the
 * running local stack an Alertmanager 0.25 webhook payload, with the `alerts` caller's token, and
 * prints the answer. A firing alert's fingerprint comes from its labels (as Alertmanager's does)
 * and its startsAt is now, kept in .local-stack/alerts.json; `resolved` sends the same alert with
 * the fingerprint and startsAt of its firing, as Alertmanager does. `--repeat` sends the firing
 * again as it is (Alertmanager's repeat_interval, or its HA pair).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findLocalStack, STATE_DIR } from './local-stack.ts';

const USAGE =
  'Usage: npm run alert -- firing|resolved --labels name=value,… [--alertname <name>] [--token <bearer token>]';
const FIRED = join(STATE_DIR, 'alerts.json');

let values: { labels?: string; alertname?: string; token?: string; help?: boolean };
let positionals: string[];
try {
  ({ values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      labels: { type: 'string' },
      alertname: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
const [status] = positionals;
if (values.help || (status !== 'firing' && status !== 'resolved') || positionals.length !== 1) {
  (values.help ? console.log : console.error)(USAGE);
  process.exit(values.help ? 0 : 2);
}
const labels: Record<string, string> = { alertname: values.alertname ?? 'LocalTestAlert' };
for (const pair of (values.labels ?? '').split(',').filter(Boolean)) {
  const [name, ...rest] = pair.split('=');
  if (!name || rest.length === 0) {
    console.error(`'${pair}' is not name=value.\n${USAGE}`);
    process.exit(2);
  }
  labels[name.trim()] = rest.join('=').trim();
}
const found = findLocalStack();
if ('problem' in found) {
  console.error(found.problem);
  process.exit(1);
}
const { state } = found;

/** Alertmanager's fingerprint hashes the labels alone (sorted): 16 hex digits. */
const fingerprint = createHash('sha256')
  .update(
    Object.keys(labels)
      .sort()
      .map((name) => `${name}\u00ff${labels[name]}\u00ff`)
      .join(''),
  )
  .digest('hex')
  .slice(0, 16);
const fired: Record<string, string> = existsSync(FIRED)
  ? (JSON.parse(readFileSync(FIRED, 'utf8')) as Record<string, string>)
  : {};
// A new firing starts now; a repeated one, and its resolution, keep the startsAt it had.
const startsAt = fired[fingerprint] ?? new Date().toISOString().replace('Z', '123456Z');
if (status === 'firing') fired[fingerprint] = startsAt;
else delete fired[fingerprint];
writeFileSync(FIRED, `${JSON.stringify(fired)}\n`, { mode: 0o600 });

const payload = {
  receiver: 'ngrok-event-streams',
  status,
  alerts: [
    {
      status,
      labels,
      annotations: { summary: `${labels.alertname} (npm run alert)` },
      startsAt,
      endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : new Date().toISOString(),
      generatorURL: 'http://127.0.0.1:9090/graph',
      fingerprint,
    },
  ],
  groupLabels: { alertname: labels.alertname },
  commonLabels: labels,
  commonAnnotations: {},
  externalURL: 'http://127.0.0.1:9093',
  version: '4',
  groupKey: `{}:{alertname="${labels.alertname}"}`,
  truncatedAlerts: 0,
};
const started = Date.now();
const response = await fetch(`${state.apiUrl}/hooks/alertmanager`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'user-agent': 'Alertmanager/0.25.0 (npm run alert)',
    authorization: `Bearer ${values.token ?? state.alerts?.token ?? ''}`,
  },
  body: JSON.stringify(payload),
});
const text = await response.text();
console.log(`HTTP ${response.status} in ${Date.now() - started} ms`);
try {
  console.log(JSON.stringify(JSON.parse(text), null, 2));
} catch {
  console.log(text);
}
process.exit(response.ok ? 0 : 1);
