/**
 * The real Prometheus Alertmanager sending to `npm start`'s `POST /hooks/alertmanager`: an alert
 * posted to Alertmanager's own API fires (the sample stream → 1, an override keyed by the
 * alert), comes again at its repeat_interval (the same override, never a second), and resolves
 * (the override ends, the stream back to the schedule's rate). Where no Alertmanager is installed
 * (Debian: `apt-get install prometheus-alertmanager`), one test says so in the run's output
 * rather than pass in silence.
 */
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newCallerToken } from '../../lib/auth/tokens.ts';
import { instantKey } from '../../lib/incidents/alertmanager.ts';
import { freePort } from '../../scripts/local-stack.ts';
import { parseJsonOrUndefined } from '../helpers/json.ts';
import { type LocalStack, startLocalStack } from '../helpers/local-stack.ts';
import { registerSecret } from '../helpers/logs.ts';
import { endTree, spawnTracked } from '../helpers/processes.ts';

jest.setTimeout(120_000);

const SAMPLE_STREAM = 'es_2SandboxSampleEventStream00';
const ALERT_LABELS = { alertname: 'CheckoutErrors', service: 'checkout', severity: 'critical' };
/** The Alertmanager binary: Debian's package, or one on PATH. */
const ALERTMANAGER = findAlertmanager();

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findAlertmanager(): string | undefined {
  if (executable('/usr/bin/prometheus-alertmanager')) return '/usr/bin/prometheus-alertmanager';
  for (const name of ['prometheus-alertmanager', 'alertmanager']) {
    for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
      if (executable(join(dir, name))) return join(dir, name);
    }
  }
  return undefined;
}

if (!ALERTMANAGER) {
  describe('the real Alertmanager → POST /hooks/alertmanager', () => {
    it('skips: Alertmanager is not installed (apt-get install prometheus-alertmanager)', () => {
      // Not a silent pass: the run's output shows that this test did not run, and why.
      console.warn(
        'The real Alertmanager test did not run: no /usr/bin/prometheus-alertmanager, and no prometheus-alertmanager or alertmanager on PATH (Debian: apt-get install prometheus-alertmanager).',
      );
      expect(ALERTMANAGER).toBeUndefined();
    });
  });
} else {
  describeWithAlertmanager(ALERTMANAGER);
}

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read field by field in assertions
  json: any;
  text: string;
}

interface Override {
  stream_id: string;
  key: string;
  sampling_rate: number;
  expires_at: string;
  actor: { kind: string; name: string };
}

function describeWithAlertmanager(binary: string): void {
  describe('the real Alertmanager → POST /hooks/alertmanager on npm start', () => {
    const devToken = newCallerToken();
    const alertsToken = newCallerToken();
    let stack: LocalStack;
    let dir: string;
    let alertmanager: ChildProcess | undefined;
    let alertmanagerUrl: string;
    let alertmanagerOutput = '';
    /** The alert as posted: Alertmanager keeps its startsAt, to the millisecond. */
    const startsAt = new Date(Date.now() - 1_000).toISOString();
    let key: string;
    let firstExpiry: string;

    async function call(method: string, path: string, body?: unknown): Promise<Reply> {
      const response = await fetch(`${stack.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${devToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, json: parseJsonOrUndefined(text), text };
    }

    async function overrides(): Promise<Override[]> {
      const listed = await call('GET', '/sampling/overrides');
      if (listed.status !== 200) throw new Error(`GET /sampling/overrides: ${listed.text}`);
      return listed.json.overrides as Override[];
    }

    async function sampleRate(): Promise<number> {
      const stream = await call('GET', `/event-streams/${SAMPLE_STREAM}`);
      if (stream.status !== 200) throw new Error(`GET the sample stream: ${stream.text}`);
      return stream.json.sampling_rate as number;
    }

    /** The webhook's request lines: one per delivery Alertmanager made. */
    function deliveries(): Record<string, unknown>[] {
      return stack
        .serviceLines()
        .filter((line) => line.message === 'request' && line.route === 'POST /hooks/alertmanager');
    }

    /** What a failed wait shows: where things stood. */
    function situation(): string {
      const statuses = deliveries().map((line) => line.status);
      return [
        `webhook deliveries so far (statuses): ${JSON.stringify(statuses)}`,
        `Alertmanager's output:\n${alertmanagerOutput}`,
      ].join('\n');
    }

    /** Polls `probe` every 250 ms until it gives a value, at most `timeoutMs`. */
    async function waitFor<T>(
      what: string,
      probe: () => Promise<T | undefined>,
      timeoutMs: number,
    ): Promise<T> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (Date.now() > until) {
          throw new Error(`Not within ${timeoutMs / 1000} s: ${what}\n${situation()}`);
        }
        await sleep(250);
      }
    }

    /** Posts alerts to Alertmanager's own API, as Prometheus does. */
    async function postAlert(endsAt?: string): Promise<void> {
      const response = await fetch(`${alertmanagerUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: ALERT_LABELS,
            annotations: { summary: 'Checkout errors above 5% (e2e)' },
            startsAt,
            ...(endsAt ? { endsAt } : {}),
            generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=checkout_errors',
          },
        ]),
      });
      expect({ status: response.status, body: await response.text() }).toMatchObject({
        status: 200,
      });
    }

    beforeAll(async () => {
      registerSecret(devToken, alertsToken);
      stack = await startLocalStack({ DEV_API_TOKEN: devToken, ALERTS_API_TOKEN: alertsToken });

      dir = mkdtempSync(join(tmpdir(), 'alertmanager-e2e-'));
      const config = join(dir, 'alertmanager.yml');
      // Small intervals, as a test needs them (Alertmanager takes them as they are).
      writeFileSync(
        config,
        [
          'route:',
          '  receiver: ngrok-event-streams',
          '  group_by: [alertname, service]',
          '  group_wait: 1s',
          '  group_interval: 2s',
          '  repeat_interval: 4s',
          'receivers:',
          '  - name: ngrok-event-streams',
          '    webhook_configs:',
          `      - url: ${JSON.stringify(`${stack.apiUrl}/hooks/alertmanager`)}`,
          '        send_resolved: true',
          '        http_config:',
          '          authorization:',
          '            type: Bearer',
          `            credentials: ${JSON.stringify(alertsToken)}`,
          '',
        ].join('\n'),
        { mode: 0o600 },
      );
      const port = await freePort();
      alertmanagerUrl = `http://127.0.0.1:${port}`;
      alertmanager = spawnTracked(
        binary,
        [
          `--config.file=${config}`,
          `--storage.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          // Empty: no cluster, no gossip port.
          '--cluster.listen-address=',
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const keep = (chunk: Buffer) => {
        alertmanagerOutput += chunk;
      };
      alertmanager.stdout?.on('data', keep);
      alertmanager.stderr?.on('data', keep);
      await waitFor(
        `Alertmanager (${binary}) ready at ${alertmanagerUrl}`,
        async () => {
          if (alertmanager?.exitCode !== null) {
            throw new Error(
              `Alertmanager exited (${alertmanager?.exitCode}):\n${alertmanagerOutput}`,
            );
          }
          const ready = await fetch(`${alertmanagerUrl}/-/ready`).catch(() => undefined);
          return ready?.ok ? true : undefined;
        },
        15_000,
      );

      // A rate that no window of the shipped policy gives: the alert's 1 is then seen.
      const set = await call('PATCH', `/event-streams/${SAMPLE_STREAM}`, { sampling_rate: 0.33 });
      expect(set.status).toBe(200);
    });

    afterAll(async () => {
      if (alertmanager) await endTree(alertmanager);
      await stack?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('a firing alert raises the sample stream to 1 with an override keyed by the alert', async () => {
      await postAlert();

      await waitFor(
        'the sample stream at 1 after the firing alert',
        async () => ((await sampleRate()) === 1 ? true : undefined),
        20_000,
      );
      const listed = await waitFor(
        "an override of Alertmanager's in GET /sampling/overrides",
        async () => {
          const live = await overrides();
          return live.some((each) => each.key.startsWith('alertmanager:')) ? live : undefined;
        },
        5_000,
      );
      // The key's fingerprint is Alertmanager's own, and its startsAt the alert's.
      const [known] = (await (await fetch(`${alertmanagerUrl}/api/v2/alerts`)).json()) as {
        fingerprint: string;
        startsAt: string;
      }[];
      expect(Date.parse(known?.startsAt ?? '')).toBe(Date.parse(startsAt));
      // As the service compares instants: trailing zeros dropped (Go's own form drops them).
      key = `alertmanager:${known?.fingerprint}:${instantKey(startsAt)}`;
      expect(listed).toEqual([
        expect.objectContaining({
          stream_id: SAMPLE_STREAM,
          key,
          sampling_rate: 1,
          actor: { kind: 'alertmanager', name: 'CheckoutErrors' },
        }),
      ]);
      firstExpiry = listed[0]?.expires_at ?? '';
      expect(deliveries()[0]).toMatchObject({ status: 200, caller: 'alerts' });
    });

    it('its repeat (repeat_interval) extends the same override, never a second one', async () => {
      const before = deliveries().length;
      await waitFor(
        'a repeated delivery of the firing alert (repeat_interval 4s)',
        async () => (deliveries().length > before ? true : undefined),
        15_000,
      );

      const all = deliveries();
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(all.map((line) => line.status)).toEqual(all.map(() => 200));
      const listed = await overrides();
      expect(listed).toEqual([expect.objectContaining({ stream_id: SAMPLE_STREAM, key })]);
      expect(Date.parse(listed[0]?.expires_at ?? '')).toBeGreaterThanOrEqual(
        Date.parse(firstExpiry),
      );
      expect(await sampleRate()).toBe(1);
      const sets = stack
        .serviceLines()
        .filter((line) => line.audit === true && line.action === 'sampling_override.set')
        .filter((line) => (line.context as { key?: string }).key === key);
      // The first one stored it; every repeat only moved its end, and set the stream no more.
      expect(sets.length).toBeGreaterThanOrEqual(1);
      expect(sets[0]).toMatchObject({ changes: { sampling_rate: { after: 1 } } });
      for (const repeat of sets.slice(1)) {
        expect(repeat).toMatchObject({ changes: { sampling_rate: { before: 1, after: 1 } } });
      }
      const updates = stack
        .serviceLines()
        .filter((line) => line.audit === true && line.action === 'event_stream.update')
        .filter((line) => line.stream_id === SAMPLE_STREAM)
        .filter((line) => (line.actor as { kind?: string }).kind === 'alertmanager');
      expect(updates).toEqual([
        expect.objectContaining({ changes: { sampling_rate: { before: 0.33, after: 1 } } }),
      ]);
    });

    it('resolved, it ends the override and the stream goes back to the schedule’s rate', async () => {
      const before = deliveries().length;
      await postAlert(new Date(Date.now() - 1_000).toISOString());

      await waitFor(
        'GET /sampling/overrides empty after the resolution',
        async () => ((await overrides()).length === 0 ? true : undefined),
        15_000,
      );
      // Its request line comes after the answer.
      await waitFor(
        'the resolution delivered',
        async () => (deliveries().length > before ? true : undefined),
        5_000,
      );
      const plan = await call('GET', '/sampling/plan');
      const sample = (plan.json.streams as { id: string; desired_rate: number }[]).find(
        (each) => each.id === SAMPLE_STREAM,
      );
      expect(sample).toMatchObject({ rule: 'sandbox-example' });
      const rate = await waitFor(
        `the sample stream back at the schedule's rate (${sample?.desired_rate})`,
        async () => {
          const now = await sampleRate();
          return now === sample?.desired_rate ? now : undefined;
        },
        5_000,
      );
      expect([1, 0.1, 0.05]).toContain(rate);
      await stack.waitForLine(
        (line) =>
          line.audit === true &&
          line.action === 'sampling_override.end' &&
          (line.context as { key?: string }).key === key,
      );
      const ends = stack
        .serviceLines()
        .filter((line) => line.audit === true && line.action === 'sampling_override.end')
        .filter((line) => (line.context as { key?: string }).key === key);
      expect(ends).toEqual([
        expect.objectContaining({
          actor: { kind: 'alertmanager', name: 'CheckoutErrors' },
          context: expect.objectContaining({ cause: 'released' }),
          changes: { sampling_rate: { before: 1, after: rate } },
        }),
      ]);
    });
  });
}
