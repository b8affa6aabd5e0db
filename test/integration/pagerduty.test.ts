/**
 * PagerDuty's v3 webhook against the sandbox, through the real handler: the signature matrix
 * (rotation, an old secret, a tampered body, a base64 body, none), the events that raise and
 * end, deliveries seen before, and ngrok down while an incident triggers.
 */
import { handler as pagerdutyWebhook } from '../../functions/pagerdutyWebhook.ts';
import { pagerDutySignature } from '../../lib/incidents/pagerduty.ts';
import { allOverrides } from '../../lib/overrides/store.ts';
import { validatePolicy } from '../../lib/sampling/policy.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import {
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  SCHEDULE_GROUP,
  type ServiceTokens,
  storeServiceSecret,
} from '../helpers/lambda.ts';
import { registerSecret, serviceLogs } from '../helpers/logs.ts';
import { lastBoundary, webQuietRule } from '../helpers/sampling-policy.ts';
import { control, injectFault, requestLog, streamRate, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox({
  rateLimit: false,
  scheduler: { tickMs: false, groups: [SCHEDULE_GROUP] },
});
const SECRET = 'pd-webhook-secret-new';
const OLD_SECRET = 'pd-webhook-secret-old';
let tokens: ServiceTokens;
let stream: string;
const savedEnv = { ...process.env };
const savedPolicy = globalThis.__samplingPolicy;

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  registerSecret(SECRET, OLD_SECRET);
  await storeServiceSecret(ctx.url, ctx.apiKey, tokens, {
    pagerduty: { webhook_secrets: [SECRET, OLD_SECRET] },
  });
  process.env.SAMPLING_REQUESTS_PER_MINUTE = '6000';
  const { event_streams } = await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
    event_streams: [
      {
        description: 'web/checkout',
        sampling_rate: 0.25,
        event_type: 'http_request_complete',
        destination_ids: [ctx.destinationIds[0]],
      },
    ],
  });
  stream = event_streams[0] as string;
  globalThis.__samplingPolicy = validatePolicy({
    timezone: 'UTC',
    rules: [webQuietRule(lastBoundary())],
    incidents: [
      {
        name: 'checkout',
        when: { pagerduty: { service_ids: ['PABC123'] } },
        streams: { ids: [stream] },
        sampling_rate: 1,
        max_duration: 'PT2H',
      },
    ],
  });
});
afterAll(() => {
  process.env = savedEnv;
  globalThis.__samplingPolicy = savedPolicy;
});

let eventCount = 0;

function body(type: string, incident = 'Q1ABCDEF', service = 'PABC123', id?: string) {
  eventCount += 1;
  return JSON.stringify({
    event: {
      id: id ?? `01EVENT${eventCount}`,
      event_type: `incident.${type}`,
      resource_type: 'incident',
      occurred_at: '2026-12-05T12:00:00.000Z',
      agent: null,
      client: null,
      data: {
        id: incident,
        type: 'incident',
        number: 4211,
        title: 'Checkout 5xx',
        service: { id: service, type: 'service_reference', summary: 'Checkout' },
      },
    },
  });
}

function deliver(raw: string, signature: string | undefined, base64 = false) {
  return invoke(
    pagerdutyWebhook,
    apiEvent({
      method: 'POST',
      route: '/hooks/pagerduty',
      rawBody: base64 ? Buffer.from(raw).toString('base64') : raw,
      isBase64Encoded: base64,
      headers: {
        'Content-Type': 'application/json',
        ...(signature === undefined ? {} : { 'X-PagerDuty-Signature': signature }),
      },
    }),
    lambdaContext(10_000),
  );
}

const signed = (raw: string, secret = SECRET) => pagerDutySignature(secret, Buffer.from(raw));

const rateOf = (id: string) => streamRate(ctx, id);

const live = async () => (await allOverrides()).filter((each) => each.expires_at > Date.now());

describe('POST /hooks/pagerduty: the signature', () => {
  it.each([
    ['no signature', (raw: string) => [raw, undefined] as const],
    [
      'a signature of another secret',
      (raw: string) => [raw, signed(raw, 'not-the-secret')] as const,
    ],
    ['a tampered body', (raw: string) => [raw.replace('PABC123', 'PABC124'), signed(raw)] as const],
    ['a v0 signature', (raw: string) => [raw, signed(raw).replace('v1=', 'v0=')] as const],
    ['a truncated signature', (raw: string) => [raw, signed(raw).slice(0, 40)] as const],
  ])('refuses %s with 401 and changes nothing', async (_name, make) => {
    const [raw, signature] = make(body('triggered'));

    const answer = await deliver(raw, signature);

    expect(answer.status).toBe(401);
    expect(answer.json.detail).toBe('The request is not signed by PagerDuty.');
    expect(await live()).toEqual([]);
    expect((await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok')).toEqual([]);
  });

  it('takes any one matching signature of several (a rotation), old secret or new, and a base64 body', async () => {
    const first = body('triggered', 'QROTATE1');
    const both = `${signed(first, 'stranger')}, ${signed(first, OLD_SECRET)}`;
    expect((await deliver(first, both)).status).toBe(200);

    const second = body('triggered', 'QROTATE2');
    expect((await deliver(second, signed(second), true)).status).toBe(200);
    expect((await live()).map((each) => each.key).sort()).toEqual([
      'pagerduty:QROTATE1',
      'pagerduty:QROTATE2',
    ]);
  });

  it('refuses everything when the secret has no PagerDuty secrets', async () => {
    await storeServiceSecret(ctx.url, ctx.apiKey, tokens);
    clearServiceSecretCache();
    const raw = body('triggered');

    expect((await deliver(raw, signed(raw))).status).toBe(401);
  });
});

describe('POST /hooks/pagerduty: incidents', () => {
  it('triggered raises the stream at once; resolved puts it back; audited with the incident', async () => {
    const mark = serviceLogs.mark();
    const raw = body('triggered');
    const triggered = await deliver(raw, signed(raw));

    expect(triggered.status).toBe(200);
    expect(triggered.json).toMatchObject({
      event_type: 'incident.triggered',
      outcome: 'override-set',
      incidents: ['checkout'],
    });
    expect(await rateOf(stream)).toBe(1);
    expect((await live())[0]).toMatchObject({
      key: 'pagerduty:Q1ABCDEF',
      actor: { kind: 'pagerduty', name: '#4211' },
    });

    const end = body('resolved');
    const resolved = await deliver(end, signed(end));
    expect(resolved.json.outcome).toBe('override-ended');
    expect(await rateOf(stream)).toBe(0.25);
    expect(await live()).toEqual([]);
    const audits = serviceLogs.since(mark).filter((line) => line.audit === true);
    expect(audits.map((line) => [line.action, (line.actor as { kind: string }).kind])).toEqual(
      expect.arrayContaining([
        ['sampling_override.set', 'pagerduty'],
        ['sampling_override.end', 'pagerduty'],
      ]),
    );
  });

  it('a delivery seen before (its event.id: PagerDuty retries) does nothing', async () => {
    const raw = body('triggered', 'QDUP', 'PABC123', 'SAME-EVENT');
    const first = await deliver(raw, signed(raw));
    const end = body('resolved', 'QDUP');
    await deliver(end, signed(end));
    const again = await deliver(raw, signed(raw));

    expect(first.json.outcome).toBe('override-set');
    expect(again.json.outcome).toBe('duplicate');
    expect(await live()).toEqual([]);
    expect(await rateOf(stream)).toBe(0.25);
  });

  it('reopened raises again; another event type and another service change nothing', async () => {
    const acknowledged = body('acknowledged');
    const other = body('triggered', 'QOTHER', 'PZZZ999');
    const reopened = body('reopened', 'QREOPEN');

    expect((await deliver(acknowledged, signed(acknowledged))).json.outcome).toBe('ignored');
    expect((await deliver(other, signed(other))).json.outcome).toBe('no-incident');
    expect((await deliver(reopened, signed(reopened))).json.outcome).toBe('override-set');
    expect((await live()).map((each) => each.key)).toEqual(['pagerduty:QREOPEN']);
  });

  it('answers 200 with the override stored while ngrok is down', async () => {
    await injectFault(ctx.url, { method: '*', path: '/event_streams/*', status: 503, times: 50 });
    const raw = body('triggered', 'QDOWN');

    const answer = await deliver(raw, signed(raw));

    expect(answer.status).toBe(200);
    expect(answer.json.outcome).toBe('override-set');
    expect((await live()).map((each) => each.key)).toEqual(['pagerduty:QDOWN']);
  });

  it('refuses a body that is not a v3 event with 400', async () => {
    const raw = JSON.stringify({ messages: [{ event: 'incident.trigger' }] });

    const answer = await deliver(raw, signed(raw));

    expect(answer.status).toBe(400);
    expect(await live()).toEqual([]);
  });
});

describe('POST /hooks/pagerduty: what a reviewer found (each failed before its fix)', () => {
  it('answers 503 when the streams of a prefix cannot be listed, and the retry raises them', async () => {
    const policy = globalThis.__samplingPolicy;
    globalThis.__samplingPolicy = validatePolicy({
      timezone: 'UTC',
      rules: [webQuietRule(lastBoundary())],
      incidents: [
        {
          name: 'checkout',
          when: { pagerduty: { service_ids: ['PABC123'] } },
          streams: { description_prefix: 'web/checkout' },
          sampling_rate: 1,
          max_duration: 'PT2H',
        },
      ],
    });
    try {
      await injectFault(ctx.url, { method: 'GET', path: '/event_streams', status: 503, times: 20 });
      const raw = body('triggered', 'QPREFIX', 'PABC123', 'EVT-PREFIX');
      const first = await deliver(raw, signed(raw));
      expect(first.status).toBe(503);
      expect(await live()).toEqual([]);

      await control(ctx.url, 'DELETE', '/faults');
      const retry = await deliver(raw, signed(raw));
      expect(retry.json.outcome).toBe('override-set');
      expect(await rateOf(stream)).toBe(1);
    } finally {
      globalThis.__samplingPolicy = policy;
    }
  });

  it('a resolution delivered before its trigger is kept: the late trigger raises nothing', async () => {
    const end = body('resolved', 'QORDER');
    const raw = body('triggered', 'QORDER');

    expect((await deliver(end, signed(end))).json.outcome).toBe('ignored');
    expect((await deliver(raw, signed(raw))).json.outcome).toBe('ignored');
    expect(await live()).toEqual([]);
    expect(await rateOf(stream)).toBe(0.25);
  });

  it('a trigger and its resolution at the same moment leave nothing raised', async () => {
    await injectFault(ctx.url, {
      method: 'GET',
      path: '/event_streams/*',
      delay_ms: 1500,
      times: 1,
    });
    const raw = body('triggered', 'QRACE');
    const end = body('resolved', 'QRACE');

    const triggered = deliver(raw, signed(raw));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await deliver(end, signed(end));
    await triggered;

    expect(await live()).toEqual([]);
    expect(await rateOf(stream)).toBe(0.25);
  });

  it('a reopened incident after its resolution raises again', async () => {
    const raw = body('triggered', 'QAGAIN');
    const end = body('resolved', 'QAGAIN');
    await deliver(raw, signed(raw));
    await deliver(end, signed(end));
    const reopened = JSON.parse(body('reopened', 'QAGAIN'));
    reopened.event.occurred_at = '2026-12-05T13:00:00.000Z';
    const text = JSON.stringify(reopened);

    expect((await deliver(text, signed(text))).json.outcome).toBe('override-set');
    expect(await rateOf(stream)).toBe(1);
  });
});
