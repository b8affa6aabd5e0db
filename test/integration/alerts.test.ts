/**
 * The alert webhooks against the sandbox (its ngrok API, DynamoDB and Scheduler), through the
 * real handlers: Alertmanager's payloads as Alertmanager 0.25 sends them — firing, repeated,
 * resolved, mixed, resolved before firing, firing again after a resolution — and who may call.
 */
import { handler as alertmanagerWebhook } from '../../functions/alertmanagerWebhook.ts';
import { handler as applySamplingSchedule } from '../../functions/applySamplingSchedule.ts';
import { handler as getEventStream } from '../../functions/getEventStream.ts';
import { allOverrides, putOverride, type StoredOverride } from '../../lib/overrides/store.ts';
import { validatePolicy } from '../../lib/sampling/policy.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import {
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  SCHEDULE_GROUP,
  type ServiceTokens,
} from '../helpers/lambda.ts';
import { serviceLogs } from '../helpers/logs.ts';
import { lastBoundary, webQuietRule } from '../helpers/sampling-policy.ts';
import { control, injectFault, streamRate, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox({
  rateLimit: false,
  scheduler: { tickMs: false, groups: [SCHEDULE_GROUP] },
});
let tokens: ServiceTokens;
const savedEnv = { ...process.env };
const savedPolicy = globalThis.__samplingPolicy;
let ids: { web: string; other: string; checkoutB: string };

const HOUR = 3_600_000;

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  process.env.SAMPLING_REQUESTS_PER_MINUTE = '6000';
  const { event_streams } = await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
    event_streams: [
      { description: 'web/checkout-a', sampling_rate: 0.25 },
      { description: 'other/z', sampling_rate: 0.5 },
      { description: 'web/checkout-b', sampling_rate: 0.25 },
    ].map((stream) => ({
      ...stream,
      event_type: 'http_request_complete',
      destination_ids: [ctx.destinationIds[0]],
    })),
  });
  const [web, other, checkoutB] = event_streams as [string, string, string];
  ids = { web, other, checkoutB };
  globalThis.__samplingPolicy = validatePolicy({
    timezone: 'UTC',
    rules: [webQuietRule(lastBoundary())],
    incidents: [
      {
        name: 'checkout',
        when: {
          alertmanager: { labels: { service: 'checkout', severity: 'critical' } },
          pagerduty: { service_ids: ['PABC123'] },
        },
        streams: { description_prefix: 'web/checkout-' },
        sampling_rate: 1,
        max_duration: 'PT6H',
      },
      {
        name: 'other',
        when: { alertmanager: { labels: { service: 'other' } } },
        streams: { ids: [other] },
        sampling_rate: 0.75,
        max_duration: 'PT1H',
      },
    ],
  });
  await control(ctx.url, 'DELETE', '/requests');
});
afterAll(() => {
  process.env = savedEnv;
  globalThis.__samplingPolicy = savedPolicy;
});

interface AlertInput {
  status?: 'firing' | 'resolved';
  labels?: Record<string, string>;
  fingerprint?: string;
  startsAt?: string;
}

/** One alert as Alertmanager 0.25 sends it. */
function alert(input: AlertInput = {}) {
  const status = input.status ?? 'firing';
  return {
    status,
    labels: input.labels ?? {
      alertname: 'CheckoutErrors',
      service: 'checkout',
      severity: 'critical',
      instance: 'checkout-7d9f:8080',
    },
    annotations: {},
    startsAt: input.startsAt ?? '2026-12-05T09:00:00.123456789Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-12-05T10:00:00.5Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up',
    fingerprint: input.fingerprint ?? '4f8a1c2e9b7d3a60',
  };
}

function payload(alerts: ReturnType<typeof alert>[], more: Record<string, unknown> = {}) {
  return {
    receiver: 'ngrok-event-streams',
    status: alerts.some((each) => each.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: { alertname: 'CheckoutErrors' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="CheckoutErrors"}',
    truncatedAlerts: 0,
    ...more,
  };
}

function deliver(body: unknown, token: string | null = tokens.alerts ?? null) {
  return invoke(
    alertmanagerWebhook,
    apiEvent({ method: 'POST', route: '/hooks/alertmanager', body, token: token ?? undefined }),
    lambdaContext(10_000),
  );
}

const rateOf = (id: string) => streamRate(ctx, id);

const live = async () => (await allOverrides()).filter((each) => each.expires_at > Date.now());

describe('POST /hooks/alertmanager', () => {
  it('a firing alert raises its incident’s streams at once; resolved puts them back', async () => {
    const mark = serviceLogs.mark();
    const fired = await deliver(payload([alert()]));

    expect(fired.status).toBe(200);
    expect(fired.json.alerts).toEqual([
      expect.objectContaining({
        fingerprint: '4f8a1c2e9b7d3a60',
        alertname: 'CheckoutErrors',
        outcome: 'override-set',
        incidents: ['checkout'],
      }),
    ]);
    expect(await rateOf(ids.web)).toBe(1);
    expect(await rateOf(ids.checkoutB)).toBe(1);
    // The delivery's metrics: one delivery, one alert that set an override.
    expect(serviceLogs.since(mark).find((line) => '_aws' in line)).toMatchObject({
      AlertDeliveries: 1,
      AlertsOverrideSet: 1,
    });
    const held = await live();
    expect(held.map((each) => each.key)).toEqual([
      'alertmanager:4f8a1c2e9b7d3a60:2026-12-05T09:00:00.123456789Z',
      'alertmanager:4f8a1c2e9b7d3a60:2026-12-05T09:00:00.123456789Z',
    ]);
    expect(held[0]?.expires_at).toBeGreaterThan(Date.now() + 6 * HOUR - 60_000);
    expect(held[0]?.actor).toEqual({ kind: 'alertmanager', name: 'CheckoutErrors' });
    expect(
      serviceLogs
        .since(mark)
        .filter((line) => line.action === 'sampling_override.set')
        .map((line) => line.actor),
    ).toEqual([
      { kind: 'alertmanager', name: 'CheckoutErrors' },
      { kind: 'alertmanager', name: 'CheckoutErrors' },
    ]);

    // Resolved: the same fingerprint and startsAt, written in another offset.
    const resolvedOk = await deliver(
      payload([alert({ status: 'resolved', startsAt: '2026-12-05T10:00:00.123456789+01:00' })]),
    );
    expect(resolvedOk.json.alerts[0]).toMatchObject({ outcome: 'override-ended' });
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await live()).toEqual([]);
  });

  it('the same notification again (repeat_interval, an HA pair) extends, never duplicates', async () => {
    await deliver(payload([alert()]));
    const before = (await live())[0]?.expires_at as number;
    await new Promise((resolve) => setTimeout(resolve, 20));

    const [first, second] = await Promise.all([
      deliver(payload([alert()])),
      deliver(payload([alert()])),
    ]);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.json.alerts[0].outcome).toBe('override-extended');
    const held = await live();
    expect(held).toHaveLength(2);
    expect(held[0]?.expires_at).toBeGreaterThan(before);
  });

  it('a resolution that comes before its firing is kept: the late firing does nothing', async () => {
    const resolved = await deliver(payload([alert({ status: 'resolved' })]));
    const fired = await deliver(payload([alert()]));

    expect(resolved.json.alerts[0]).toMatchObject({ outcome: 'ignored' });
    expect(fired.json.alerts[0]).toMatchObject({
      outcome: 'ignored',
      detail: expect.stringContaining('already resolved'),
    });
    expect(await live()).toEqual([]);
    expect(await rateOf(ids.web)).toBe(0.25);
  });

  it('the same labels firing again after a resolution (a new startsAt) raise anew', async () => {
    await deliver(payload([alert()]));
    await deliver(payload([alert({ status: 'resolved' })]));
    const again = await deliver(payload([alert({ startsAt: '2026-12-05T11:00:00Z' })]));

    expect(again.json.alerts[0].outcome).toBe('override-set');
    expect(await rateOf(ids.web)).toBe(1);
  });

  it('decides each alert of a mixed payload alone; an alert no incident matches changes nothing', async () => {
    await deliver(payload([alert({ fingerprint: 'aaaa' })]));

    const mixed = await deliver(
      payload([
        alert({ fingerprint: 'aaaa', status: 'resolved' }),
        alert({ fingerprint: 'bbbb', labels: { alertname: 'OtherDown', service: 'other' } }),
        alert({ fingerprint: 'cccc', labels: { alertname: 'Unrelated', service: 'billing' } }),
      ]),
    );

    expect(mixed.status).toBe(200);
    expect(mixed.json.alerts.map((each: { outcome: string }) => each.outcome)).toEqual([
      'override-ended',
      'override-set',
      'no-incident',
    ]);
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await rateOf(ids.other)).toBe(0.75);
  });

  it('answers 200 with the override stored while ngrok is down; its run sets the stream later', async () => {
    await injectFault(ctx.url, { method: '*', path: '/event_streams', status: 503, times: 50 });
    await injectFault(ctx.url, { method: '*', path: '/event_streams/*', status: 503, times: 50 });

    const fired = await deliver(
      payload([
        alert({ fingerprint: 'dddd', labels: { alertname: 'OtherDown', service: 'other' } }),
      ]),
    );

    expect(fired.status).toBe(200);
    expect(fired.json.alerts[0].outcome).toBe('override-set');
    expect((await live()).map((each) => each.stream_id)).toEqual([ids.other]);
    await control(ctx.url, 'DELETE', '/faults');
    expect(await rateOf(ids.other)).toBe(0.5);

    // The 15-minute run (or the override's own) sets it once ngrok answers.
    await (applySamplingSchedule as unknown as (e: unknown, c: unknown) => Promise<unknown>)(
      { cause: 'enforce', rules: [] },
      lambdaContext(30_000),
    );
    expect(await rateOf(ids.other)).toBe(0.75);
  });

  it('an alert that never resolves ends at max_duration: its end schedule sets the stream back', async () => {
    const fired = await deliver(
      payload([
        alert({ fingerprint: 'eeee', labels: { alertname: 'OtherDown', service: 'other' } }),
      ]),
    );
    expect(fired.json.alerts[0].outcome).toBe('override-set');
    const [held] = await live();
    expect((held?.expires_at ?? 0) - (held?.starts_at ?? 0)).toBe(HOUR);
    expect(await rateOf(ids.other)).toBe(0.75);

    // An hour later (as time passing would): its end's run.
    await putOverride({
      ...(held as StoredOverride),
      starts_at: Date.now() - HOUR - 1000,
      expires_at: Date.now() - 1000,
    });
    await (applySamplingSchedule as unknown as (e: unknown, c: unknown) => Promise<unknown>)(
      { cause: 'override', stream_id: ids.other },
      lambdaContext(30_000),
    );

    expect(await rateOf(ids.other)).toBe(0.5);
    expect(await allOverrides()).toEqual([]);
  });

  it('says so when Alertmanager left alerts out (truncatedAlerts)', async () => {
    const answer = await deliver(payload([alert()], { truncatedAlerts: 3 }));

    expect(answer.json).toMatchObject({ truncated_alerts: 3, note: expect.stringContaining('3') });
  });

  it('takes a Grafana webhook contact point payload (version 1, its own fields)', async () => {
    const answer = await deliver({
      ...payload([{ ...alert(), startsAt: '2026-12-05T10:51:03.157076+02:00' }]),
      version: '1',
      orgId: 1,
      title: '[FIRING:1] CheckoutErrors',
      state: 'alerting',
      message: '**Firing**',
    });

    expect(answer.status).toBe(200);
    expect(answer.json.alerts[0].outcome).toBe('override-set');
  });

  it.each([
    ['another version', { version: '3' }],
    ['no alerts', { alerts: undefined }],
    ['an alert without a fingerprint', { alerts: [{ ...alert(), fingerprint: undefined }] }],
    ['an alert with a status of its own', { alerts: [{ ...alert(), status: 'pending' }] }],
    ['a startsAt that is no instant', { alerts: [{ ...alert(), startsAt: 'yesterday' }] }],
  ])('refuses %s with 400, changing nothing', async (_name, change) => {
    const answer = await deliver({ ...payload([alert()]), ...change });

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(await live()).toEqual([]);
  });

  it('takes a group of 500 alerts in one payload; refuses a body over 1 MiB with 413', async () => {
    const many = Array.from({ length: 500 }, (_, index) =>
      alert({ fingerprint: `f${index}`, labels: { alertname: `A${index}`, service: 'billing' } }),
    );
    const answer = await deliver(payload(many));
    expect(answer.status).toBe(200);
    expect(answer.json.alerts).toHaveLength(500);

    const huge = payload([alert()], { padding: 'x'.repeat(1024 * 1024) });
    expect((await deliver(huge)).status).toBe(413);
  });

  it('lets only a caller with the alerts scope in; that caller can call nothing else', async () => {
    expect((await deliver(payload([alert()]), tokens.write)).status).toBe(403);
    expect((await deliver(payload([alert()]), null)).status).toBe(401);
    const read = await invoke(
      getEventStream,
      apiEvent({
        method: 'GET',
        route: '/event-streams/{id}',
        pathParameters: { id: ids.web },
        token: tokens.alerts,
      }),
    );
    expect(read.status).toBe(403);
    expect(await live()).toEqual([]);
  });
});

describe('POST /hooks/alertmanager: what a reviewer found (each failed before its fix)', () => {
  it('answers 503 when the streams of a prefix cannot be listed; the next delivery raises them', async () => {
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams', status: 503, times: 20 });

    const first = await deliver(payload([alert()]));
    expect(first.status).toBe(503);
    expect(first.json.detail).toContain("prefix 'web/checkout-' could not be listed");
    expect(await live()).toEqual([]);

    await control(ctx.url, 'DELETE', '/faults');
    const again = await deliver(payload([alert()]));
    expect(again.json.alerts[0].outcome).toBe('override-set');
    expect(await rateOf(ids.web)).toBe(1);
  });

  it('a resolution ends what its firing set, even after the policy changed', async () => {
    await deliver(payload([alert()]));
    const policy = globalThis.__samplingPolicy;
    globalThis.__samplingPolicy = validatePolicy({
      timezone: 'UTC',
      rules: [webQuietRule(lastBoundary())],
      incidents: [],
    });
    try {
      const resolved = await deliver(payload([alert({ status: 'resolved' })]));
      expect(resolved.json.alerts[0].outcome).toBe('override-ended');
    } finally {
      globalThis.__samplingPolicy = policy;
    }
    expect(await live()).toEqual([]);
    expect(await rateOf(ids.web)).toBe(0.25);
  });

  it('two incidents that select the same stream: the highest rate holds', async () => {
    const policy = globalThis.__samplingPolicy;
    globalThis.__samplingPolicy = validatePolicy({
      timezone: 'UTC',
      rules: [webQuietRule(lastBoundary())],
      incidents: [
        {
          name: 'checkout-low',
          when: { alertmanager: { labels: { service: 'checkout' } } },
          streams: { ids: [ids.other] },
          sampling_rate: 0.6,
          max_duration: 'PT6H',
        },
        {
          name: 'checkout-full',
          when: { alertmanager: { labels: { service: 'checkout', severity: 'critical' } } },
          streams: { ids: [ids.other] },
          sampling_rate: 1,
          max_duration: 'PT1H',
        },
      ],
    });
    try {
      await deliver(payload([alert()]));
    } finally {
      globalThis.__samplingPolicy = policy;
    }
    expect((await live()).map((each) => each.sampling_rate)).toEqual([1]);
    expect(await rateOf(ids.other)).toBe(1);
  });

  it('a group of 150 alerts that all match answers 200 well within Alertmanager’s 10 s', async () => {
    const many = Array.from({ length: 150 }, (_, index) =>
      alert({
        fingerprint: `m${index}`,
        labels: { alertname: `A${index}`, service: 'checkout', severity: 'critical' },
      }),
    );

    const answer = await deliver(payload(many));

    expect(answer.status).toBe(200);
    expect(
      answer.json.alerts.every((each: { outcome: string }) => each.outcome === 'override-set'),
    ).toBe(true);
    expect(await live()).toHaveLength(300);
    expect(await rateOf(ids.web)).toBe(1);
  });
});
