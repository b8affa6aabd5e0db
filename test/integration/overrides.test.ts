/**
 * Sampling overrides against the sandbox (its ngrok API, DynamoDB and EventBridge Scheduler),
 * in-process through the real handlers: the HTTP routes that set, end and list them, and the
 * sampling function as the schedules invoke it — at an override's end, at a boundary inside one,
 * and every 15 minutes as the backstop. The policy is built around the current time: the `web`
 * rule's `quiet` window (25 %) started a minute ago and lasts six hours (default 100 %).
 */
import { handler as applySamplingSchedule } from '../../functions/applySamplingSchedule.ts';
import { handler as endSamplingOverride } from '../../functions/endSamplingOverride.ts';
import { handler as getSamplingPlan } from '../../functions/getSamplingPlan.ts';
import { handler as listSamplingOverrides } from '../../functions/listSamplingOverrides.ts';
import { handler as setSamplingOverride } from '../../functions/setSamplingOverride.ts';
import { allOverrides, putOverride, type StoredOverride } from '../../lib/overrides/store.ts';
import { validatePolicy } from '../../lib/sampling/policy.ts';
import type { ScheduleRunResult } from '../../lib/sampling/scheduled-run.ts';
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
import { webQuietRule } from '../helpers/sampling-policy.ts';
import { control, injectFault, requestLog, streamRate, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox({
  rateLimit: false,
  scheduler: { tickMs: false, groups: [SCHEDULE_GROUP] },
});
let tokens: ServiceTokens;
const savedEnv = { ...process.env };
const savedPolicy = globalThis.__samplingPolicy;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
let boundary: number;
let ids: { web: string; other: string };

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  process.env.SAMPLING_REQUESTS_PER_MINUTE = '6000';
  boundary = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
  globalThis.__samplingPolicy = validatePolicy({
    timezone: 'UTC',
    rules: [webQuietRule(boundary)],
  });
  const { event_streams } = await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
    event_streams: [
      { description: 'web/a', sampling_rate: 0.25 },
      { description: 'other/z', sampling_rate: 0.5 },
    ].map((stream) => ({
      ...stream,
      event_type: 'http_request_complete',
      destination_ids: [ctx.destinationIds[0]],
    })),
  });
  const [web, other] = event_streams as [string, string];
  ids = { web, other };
  await control(ctx.url, 'DELETE', '/requests');
});
afterAll(() => {
  process.env = savedEnv;
  globalThis.__samplingPolicy = savedPolicy;
});

function put(id: string, body: unknown) {
  return invoke(
    setSamplingOverride,
    apiEvent({
      method: 'PUT',
      route: '/event-streams/{id}/sampling-override',
      pathParameters: { id },
      body,
      token: tokens.write,
    }),
  );
}

function release(id: string) {
  return invoke(
    endSamplingOverride,
    apiEvent({
      method: 'DELETE',
      route: '/event-streams/{id}/sampling-override',
      pathParameters: { id },
      token: tokens.write,
    }),
  );
}

const runEvent = (event: unknown) =>
  (applySamplingSchedule as unknown as (e: unknown, c: unknown) => Promise<ScheduleRunResult>)(
    event,
    lambdaContext(30_000),
  );

const overrideEvent = (streamId: string, at = Date.now()) => ({
  cause: 'override',
  stream_id: streamId,
  scheduled_time: new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
  execution_id: 'exec-override',
});

const rateOf = (id: string) => streamRate(ctx, id);

async function patches() {
  return (await requestLog(ctx.url)).filter(
    (entry) => entry.api === 'ngrok' && entry.method === 'PATCH',
  );
}

async function schedules() {
  return (
    await control<{
      schedules: { name: string; schedule_expression: string; target: { Input: string } }[];
    }>(ctx.url, 'GET', '/scheduler/schedules')
  ).schedules;
}

/** Stores an override as a system would (the webhooks' keys), ending `ms` from now. */
function stored(
  streamId: string,
  key: string,
  rate: number,
  from: number,
  to: number,
  createdAt = Date.now(),
  more: Partial<StoredOverride> = {},
) {
  return putOverride({
    stream_id: streamId,
    key,
    sampling_rate: rate,
    starts_at: from,
    expires_at: to,
    created_at: createdAt,
    reason: `test ${key}`,
    actor: { kind: 'http', name: 'test' },
    ...more,
  });
}

/** Moves an override's end (or start) into the past, as time passing would. */
async function endedAgo(streamId: string, key: string, ms: number) {
  const record = (await allOverrides()).find(
    (each) => each.stream_id === streamId && each.key === key,
  ) as StoredOverride;
  await putOverride({
    ...record,
    starts_at: Math.min(record.starts_at, Date.now() - ms - MINUTE),
    expires_at: Date.now() - ms,
  });
}

const audits = (mark: number, action: string) =>
  serviceLogs.since(mark).filter((line) => line.audit === true && line.action === action);

describe('PUT /event-streams/{id}/sampling-override', () => {
  it('sets the rate at once, stores the override, schedules its end, and says what follows', async () => {
    const mark = serviceLogs.mark();
    const answer = await put(ids.web, { sampling_rate: 1, duration: 'PT2H', reason: 'INC-4211' });

    expect(answer.status).toBe(200);
    expect(answer.json.override).toMatchObject({
      stream_id: ids.web,
      key: 'manual',
      sampling_rate: 1,
      reason: 'INC-4211',
      actor: { kind: 'http', name: 'ci' },
    });
    const expires = Date.parse(answer.json.override.expires_at);
    expect(expires - Date.parse(answer.json.override.starts_at)).toBe(2 * HOUR);
    expect(answer.json.event_stream).toMatchObject({ id: ids.web, sampling_rate: 1 });
    expect(answer.json.then).toEqual({
      at: answer.json.override.expires_at,
      sampling_rate: 0.25,
      source: 'schedule',
    });
    expect(await rateOf(ids.web)).toBe(1);
    const held = await schedules();
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({
      name: expect.stringMatching(/^override-es_\w+-[0-9a-f]{10}-end$/),
      schedule_expression: `at(${new Date(Math.ceil(expires / 1000) * 1000).toISOString().slice(0, 19)})`,
    });
    expect(JSON.parse(held[0]?.target.Input ?? 'null')).toMatchObject({
      cause: 'override',
      stream_id: ids.web,
    });
    expect(audits(mark, 'sampling_override.set')).toEqual([
      expect.objectContaining({
        stream_id: ids.web,
        actor: { kind: 'http', name: 'ci' },
        changes: { sampling_rate: { before: 0.25, after: 1 } },
        context: expect.objectContaining({ key: 'manual', reason: 'INC-4211' }),
      }),
    ]);
  });

  it('replaces the manual override: one per stream, the old one ended as replaced', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT2H' });
    const mark = serviceLogs.mark();
    const answer = await put(ids.web, { sampling_rate: 0.5, duration: 'PT30M' });

    expect(answer.status).toBe(200);
    expect(await rateOf(ids.web)).toBe(0.5);
    expect(await allOverrides()).toHaveLength(1);
    expect(await schedules()).toHaveLength(1);
    expect(audits(mark, 'sampling_override.end')).toEqual([
      expect.objectContaining({ context: expect.objectContaining({ cause: 'replaced' }) }),
    ]);
  });

  it('plans an override that starts later: nothing now, a schedule at its start and at its end', async () => {
    const startsAt = new Date(Date.now() + 2 * HOUR).toISOString();
    const answer = await put(ids.web, { sampling_rate: 1, starts_at: startsAt, duration: 'PT1H' });

    expect(answer.status).toBe(200);
    expect(await rateOf(ids.web)).toBe(0.25);
    expect((await patches()).length).toBe(0);
    expect((await schedules()).map((each) => each.name.replace(/.*-/, '')).sort()).toEqual([
      'end',
      'start',
    ]);
    const plan = await invoke(
      getSamplingPlan,
      apiEvent({
        method: 'GET',
        route: '/sampling/plan',
        query: { at: new Date(Date.parse(startsAt) + MINUTE).toISOString() },
        token: tokens.read,
      }),
    );
    expect(plan.json.streams.find((each: { id: string }) => each.id === ids.web)).toMatchObject({
      desired_rate: 1,
      action: 'change',
      override: expect.objectContaining({ key: 'manual' }),
    });
  });

  it.each([
    [{ sampling_rate: 1 }, 'body.duration', 'exactly one of duration'],
    [
      { sampling_rate: 1, duration: 'PT1H', until: '2030-01-01T00:00:00Z' },
      'body.duration',
      'exactly one',
    ],
    [{ sampling_rate: 1, until: '2030-01-01T00:00:00' }, 'body.until', 'offset'],
    [{ sampling_rate: 1, until: '2020-01-01T00:00:00Z' }, 'body.until', 'in the past'],
    [{ sampling_rate: 1, duration: 'PT25H' }, 'body.duration', 'maximum of 24 hours'],
    [{ sampling_rate: 1, duration: 'PT30S' }, 'body.duration', 'at least 1 minute'],
    [{ sampling_rate: 1, duration: 'P1M' }, 'body.duration', 'months'],
    [{ sampling_rate: 1, duration: 'two hours' }, 'body.duration', 'ISO 8601 duration'],
    [
      { sampling_rate: 1, duration: 'PT1H', starts_at: '2020-01-01T00:00:00Z' },
      'body.starts_at',
      'in the past',
    ],
    [
      { sampling_rate: 1, duration: 'PT1H', starts_at: '2099-01-01T00:00:00+02:00' },
      'body.starts_at',
      '30 days',
    ],
    [{ sampling_rate: 0, duration: 'PT1H' }, 'body.sampling_rate', 'at least 0.01'],
  ])('refuses %j with 400 naming %s', async (body, field, words) => {
    const answer = await put(ids.web, body);

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json.errors).toEqual([
      expect.objectContaining({ field, message: expect.stringContaining(words) }),
    ]);
    expect(await allOverrides()).toEqual([]);
    expect((await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok')).toEqual([]);
  });

  it('answers 404 for a stream ngrok does not have, storing nothing', async () => {
    const answer = await put('es_2NoSuchStream0000000000000', {
      sampling_rate: 1,
      duration: 'PT1H',
    });

    expect(answer.status).toBe(404);
    expect(await allOverrides()).toEqual([]);
  });
});

describe('DELETE /event-streams/{id}/sampling-override and GET /sampling/overrides', () => {
  it('lists what holds and what is to come; an end sets the schedule’s rate and deletes its schedules', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H', reason: 'debug' });
    await stored(
      ids.other,
      'alertmanager:abc',
      1,
      Date.now() + HOUR,
      Date.now() + 2 * HOUR,
      Date.now(),
      {
        restore_rate: 0.5,
      },
    );

    const listed = await invoke(
      listSamplingOverrides,
      apiEvent({ method: 'GET', route: '/sampling/overrides', token: tokens.read }),
    );
    expect(listed.status).toBe(200);
    expect(listed.json.overrides).toEqual([
      expect.objectContaining({
        stream_id: ids.web,
        state: 'holding',
        effective_rate: 1,
        effective_source: 'override',
      }),
      expect.objectContaining({
        stream_id: ids.other,
        key: 'alertmanager:abc',
        state: 'planned',
        effective_rate: 0.5,
        effective_source: 'restore',
      }),
    ]);

    const mark = serviceLogs.mark();
    const ended = await release(ids.web);
    expect(ended.status).toBe(200);
    expect(ended.json).toMatchObject({ id: ids.web, sampling_rate: 0.25 });
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await schedules()).toEqual([]);
    expect((await allOverrides()).map((each) => each.stream_id)).toEqual([ids.other]);
    expect(audits(mark, 'sampling_override.end')).toEqual([
      expect.objectContaining({
        context: expect.objectContaining({ cause: 'released' }),
        changes: { sampling_rate: { before: 1, after: 0.25 } },
      }),
    ]);

    const again = await release(ids.web);
    expect(again.status).toBe(404);
    expect(again.headers['content-type']).toBe('application/problem+json');
  });
});

describe('The clock respects overrides', () => {
  it('a boundary inside an override leaves the stream alone, and shows it held', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    await control(ctx.url, 'DELETE', '/requests');

    const result = await runEvent({
      cause: 'boundary',
      rules: ['web'],
      scheduled_time: new Date(boundary).toISOString().replace('.000Z', 'Z'),
      execution_id: 'exec-boundary',
    });

    expect(result.summary).toMatchObject({ held: 1, changed: 0 });
    expect(result.streams[0]).toMatchObject({
      id: ids.web,
      action: 'held',
      desired_rate: 1,
      override: expect.objectContaining({ key: 'manual' }),
    });
    expect(await patches()).toEqual([]);
    expect(await rateOf(ids.web)).toBe(1);
  });

  it('at its end sets the schedule’s rate once; a second delivery sets nothing', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    await endedAgo(ids.web, 'manual', 1000);
    await control(ctx.url, 'DELETE', '/requests');
    const mark = serviceLogs.mark();

    const first = await runEvent(overrideEvent(ids.web));
    const second = await runEvent(overrideEvent(ids.web));

    expect(first.streams[0]).toMatchObject({ action: 'changed', desired_rate: 0.25 });
    expect(second.streams[0]).toMatchObject({ action: 'unchanged' });
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await patches()).toHaveLength(1);
    expect(await allOverrides()).toEqual([]);
    expect(audits(mark, 'sampling_override.end')).toEqual([
      expect.objectContaining({
        stream_id: ids.web,
        context: expect.objectContaining({ cause: 'expired' }),
        changes: { sampling_rate: { before: 1, after: 0.25 } },
      }),
    ]);
  });

  it('overlapping overrides: the one set last holds; when it ends, the other if it still holds', async () => {
    const now = Date.now();
    await stored(ids.web, 'a', 1, now, now + 2 * HOUR, now - 2000);
    await stored(ids.web, 'b', 0.5, now, now + 4 * HOUR, now - 1000);
    await runEvent({ cause: 'enforce', rules: [] });
    expect(await rateOf(ids.web)).toBe(0.5);

    // B set first: A (set later) holds until it ends, then B.
    await stored(ids.web, 'a', 1, now, now + 2 * HOUR, now);
    await runEvent({ cause: 'enforce', rules: [] });
    expect(await rateOf(ids.web)).toBe(1);
    await endedAgo(ids.web, 'a', 1000);
    await runEvent(overrideEvent(ids.web));
    expect(await rateOf(ids.web)).toBe(0.5);
    expect((await allOverrides()).map((each) => each.key)).toEqual(['b']);
  });

  it('an end whose schedule was lost: the 15-minute run sets it', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    await endedAgo(ids.web, 'manual', 1000);
    // Its end schedule is never delivered.

    const result = await runEvent({ cause: 'enforce', rules: [] });

    expect(result.streams).toEqual([expect.objectContaining({ id: ids.web, action: 'changed' })]);
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await allOverrides()).toEqual([]);
  });

  it('ngrok failing at an end keeps the record; the next run sets the stream', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    await endedAgo(ids.web, 'manual', 1000);
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: '/event_streams/*',
      status: 503,
      times: 10,
    });

    await expect(runEvent(overrideEvent(ids.web))).rejects.toThrow(/not set/);
    expect(await allOverrides()).toHaveLength(1);
    expect(await rateOf(ids.web)).toBe(1);

    await control(ctx.url, 'DELETE', '/faults');
    await runEvent({ cause: 'enforce', rules: [] });
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await allOverrides()).toEqual([]);
  });

  it('a stream no rule governs goes back to the rate it had before its first override', async () => {
    const answer = await put(ids.other, { sampling_rate: 1, duration: 'PT1H' });
    expect(answer.json.then).toMatchObject({ sampling_rate: 0.5, source: 'restore' });
    expect(await rateOf(ids.other)).toBe(1);

    const plan = await invoke(
      getSamplingPlan,
      apiEvent({ method: 'GET', route: '/sampling/plan', token: tokens.read }),
    );
    expect(plan.json.streams.find((each: { id: string }) => each.id === ids.other)).toMatchObject({
      rule: null,
      action: 'held',
      desired_rate: 1,
      next_change: expect.objectContaining({ rate: 0.5, source: 'restore', timezone: 'UTC' }),
    });

    await endedAgo(ids.other, 'manual', 1000);
    await runEvent(overrideEvent(ids.other));
    expect(await rateOf(ids.other)).toBe(0.5);
  });

  it('a set and an end of the same stream at the same moment lose neither', async () => {
    for (let round = 0; round < 5; round++) {
      await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
      await endedAgo(ids.web, 'manual', 1000);

      const [, set] = await Promise.all([
        runEvent(overrideEvent(ids.web)),
        put(ids.web, { sampling_rate: 0.5, duration: 'PT1H' }),
      ]);

      expect(set.status).toBe(200);
      const records = await allOverrides();
      expect(records).toEqual([expect.objectContaining({ key: 'manual', sampling_rate: 0.5 })]);
      expect(await rateOf(ids.web)).toBe(0.5);
      await release(ids.web);
    }
  });

  it.each([
    ['the end, then the boundary', ['end', 'boundary']],
    ['the boundary, then the end', ['boundary', 'end']],
  ])('an end and a boundary at the same instant (%s): one PATCH', async (_name, order) => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    // The override ends exactly at the `quiet` window's start.
    const record = (await allOverrides())[0] as StoredOverride;
    await putOverride({ ...record, starts_at: boundary - HOUR, expires_at: boundary });
    await control(ctx.url, 'DELETE', '/requests');

    for (const what of order) {
      await runEvent(
        what === 'end'
          ? overrideEvent(ids.web, boundary)
          : {
              cause: 'boundary',
              rules: ['web'],
              scheduled_time: new Date(boundary).toISOString().replace('.000Z', 'Z'),
              execution_id: 'exec-boundary',
            },
      );
    }

    expect(await rateOf(ids.web)).toBe(0.25);
    expect(await patches()).toHaveLength(1);
    expect(await allOverrides()).toEqual([]);
  });
});

describe('Overrides of a stream that is gone', () => {
  it('at its end, removes the ended override instead of keeping it for the 15-minute run', async () => {
    await stored(ids.web, 'manual', 1, Date.now() - HOUR, Date.now() - 1000, Date.now() - HOUR);
    await fetch(`${ctx.url}/event_streams/${ids.web}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ctx.apiKey}`, 'ngrok-version': '2' },
    });

    const result = await runEvent(overrideEvent(ids.web));

    expect(result.summary.failed).toBe(0);
    expect(await allOverrides()).toEqual([]);
  });
});

const patchTo = (id: string, rate: number) =>
  fetch(`${ctx.url}/event_streams/${id}`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${ctx.apiKey}`,
      'ngrok-version': '2',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ sampling_rate: rate }),
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seedNew = async (description: string, rate: number) =>
  (
    await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
      event_streams: [
        {
          description,
          sampling_rate: rate,
          event_type: 'http_request_complete',
          destination_ids: [ctx.destinationIds[0]],
        },
      ],
    })
  ).event_streams[0] as string;
const causes = (mark: number) =>
  audits(mark, 'sampling_override.end').map((a) => (a.context as { cause: string }).cause);

describe('Races and failures around an end (each failed before its fix)', () => {
  it('a run keeps an override that ended after it planned: the stream still goes back at its end', async () => {
    const newer = await seedNew('other/new', 0.5);
    const now = Date.now();
    await stored(newer, 'x', 1, now - MINUTE, now + HOUR, now - MINUTE, { restore_rate: 0.5 });
    await patchTo(ids.other, 1);
    await stored(ids.other, 'manual', 1, now - MINUTE, now + 1500, now - MINUTE, {
      restore_rate: 0.5,
    });
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: '/event_streams/*',
      delay_ms: 2500,
      times: 1,
    });
    await runEvent({ cause: 'enforce', rules: [] });
    await runEvent(overrideEvent(ids.other)); // its own end schedule
    await runEvent({ cause: 'enforce', rules: [] }); // and the backstop
    expect(await rateOf(ids.other)).toBe(0.5);
  });
  it('a set and a release at once (ngrok slow on the set): the stream agrees with what is stored', async () => {
    await put(ids.web, { sampling_rate: 0.5, duration: 'PT1H' });
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: '/event_streams/*',
      delay_ms: 150,
      times: 1,
    });
    await Promise.all([
      put(ids.web, { sampling_rate: 1, duration: 'PT1H' }),
      sleep(10).then(() => release(ids.web)),
    ]);
    const live = (await allOverrides()).filter((o) => o.expires_at > Date.now());
    expect(await rateOf(ids.web)).toBe(live.length > 0 ? 1 : 0.25);
  });
  it('a set during a slow boundary run is not undone by the run', async () => {
    await patchTo(ids.web, 1);
    await seedNew('web/new', 1);
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: '/event_streams/*',
      delay_ms: 1500,
      times: 1,
    });
    await Promise.all([
      runEvent({
        cause: 'boundary',
        rules: ['web'],
        scheduled_time: new Date(boundary).toISOString().replace('.000Z', 'Z'),
        execution_id: 'b',
      }),
      sleep(500).then(() => put(ids.web, { sampling_rate: 1, duration: 'PT1H' })),
    ]);
    expect(await rateOf(ids.web)).toBe(1);
  });
  it('a release with ngrok failing: 502 that says the override has ended, audited released once', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    const mark = serviceLogs.mark();
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: '/event_streams/*',
      status: 503,
      times: 10,
    });
    const first = await release(ids.web);
    await control(ctx.url, 'DELETE', '/faults');
    const retry = await release(ids.web);
    await runEvent({ cause: 'enforce', rules: [] });
    expect([first.status, retry.status]).toEqual([502, 404]);
    expect(first.json.detail).toContain('The override has ended');
    expect(await rateOf(ids.web)).toBe(0.25);
    expect(causes(mark)).toEqual(['released']);
  });
  it('a set over an ended, not yet settled override audits that end once, as expired', async () => {
    await put(ids.web, { sampling_rate: 1, duration: 'PT1H' });
    await endedAgo(ids.web, 'manual', 1000);
    const mark = serviceLogs.mark();
    await put(ids.web, { sampling_rate: 0.5, duration: 'PT1H' });
    await runEvent({ cause: 'enforce', rules: [] });
    expect(causes(mark)).toEqual(['expired']);
  });
});
