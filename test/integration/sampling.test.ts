/**
 * The sampling schedule against the sandbox: the boundary function (the scheduler's target), and
 * GET /sampling/plan and POST /sampling/apply, in-process with the real Secrets Manager client
 * and ngrok client. The policy is built around the current time: one window of the `web` rule
 * started a minute ago (so now is just after a boundary) and lasts six hours.
 */

import { handler as applySampling } from '../../functions/applySampling.ts';
import { handler as applySamplingSchedule } from '../../functions/applySamplingSchedule.ts';
import { handler as getSamplingPlan } from '../../functions/getSamplingPlan.ts';
import { validatePolicy } from '../../lib/sampling/policy.ts';
import type { ScheduleRunResult } from '../../lib/sampling/scheduled-run.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import {
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  type ServiceTokens,
} from '../helpers/lambda.ts';
import { onServiceLine, serviceLogs } from '../helpers/logs.ts';
import { webQuietRule } from '../helpers/sampling-policy.ts';
import { control, injectFault, requestLog, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let tokens: ServiceTokens;
const savedEnv = { ...process.env };
const savedPolicy = globalThis.__samplingPolicy;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** The boundary just passed: the `web` window's start. */
let boundary: number;
let ids: Record<string, string>;

const iso = (instant: number) => new Date(instant).toISOString().replace('.000Z', 'Z');

function usePolicy(now: number) {
  boundary = Math.floor(now / MINUTE) * MINUTE - MINUTE;
  globalThis.__samplingPolicy = validatePolicy({
    timezone: 'UTC',
    rules: [
      webQuietRule(boundary),
      { name: 'api', streams: { description_prefix: 'api/' }, default_rate: 0.5, enforce: true },
      { name: 'pinned', streams: { ids: ['es_placeholder0'] }, default_rate: 0.75 },
    ],
  });
}

async function seed(streams: { description: string; sampling_rate: number }[]) {
  const { event_streams } = await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
    event_streams: streams.map((stream) => ({
      ...stream,
      event_type: 'http_request_complete',
      destination_ids: [ctx.destinationIds[0]],
    })),
  });
  return event_streams;
}

async function rates(): Promise<Record<string, number>> {
  const { event_streams } = (await (
    await fetch(`${ctx.url}/event_streams?limit=100`, {
      headers: { authorization: `Bearer ${ctx.apiKey}`, 'ngrok-version': '2' },
    })
  ).json()) as { event_streams: { id: string; sampling_rate: number }[] };
  return Object.fromEntries(event_streams.map((stream) => [stream.id, stream.sampling_rate]));
}

async function patches() {
  return (await requestLog(ctx.url)).filter(
    (entry) => entry.api === 'ngrok' && entry.method === 'PATCH',
  );
}

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  process.env.SAMPLING_REQUESTS_PER_MINUTE = '6000';
  usePolicy(Date.now());
  const [webA, webB, webC, apiX, other, pinned] = await seed([
    { description: 'web/a', sampling_rate: 1 },
    { description: 'web/b', sampling_rate: 0.25 },
    { description: 'web/c', sampling_rate: 1 },
    { description: 'api/x', sampling_rate: 1 },
    { description: 'other/z', sampling_rate: 1 },
    { description: 'web/pinned', sampling_rate: 1 },
  ]);
  ids = { webA, webB, webC, apiX, other, pinned } as Record<string, string>;
  // The pinned stream is selected by id: a rule that names its id beats the `web/` prefix.
  const policy = globalThis.__samplingPolicy;
  if (policy) (policy.rules[2] as { streams: { ids: string[] } }).streams.ids = [pinned as string];
  await control(ctx.url, 'DELETE', '/requests');
});
afterAll(() => {
  process.env = savedEnv;
  globalThis.__samplingPolicy = savedPolicy;
});

function boundaryEvent(scheduled = boundary, rules = ['web']) {
  return { cause: 'boundary', rules, scheduled_time: iso(scheduled), execution_id: 'exec-1' };
}

const runEvent = (event: unknown, remainingMs = 30_000) =>
  (applySamplingSchedule as unknown as (e: unknown, c: unknown) => Promise<ScheduleRunResult>)(
    event,
    lambdaContext(remainingMs),
  );

describe('The boundary function (the scheduler’s target)', () => {
  it('sets the streams of the named rule to the rate from the scheduled time on, and no others', async () => {
    const mark = serviceLogs.mark();

    const result = await runEvent(boundaryEvent());

    const after = await rates();
    expect(after[ids.webA as string]).toBe(0.25);
    expect(after[ids.webC as string]).toBe(0.25);
    expect(after[ids.webB as string]).toBe(0.25);
    expect(after[ids.apiX as string]).toBe(1); // another rule: left alone
    expect(after[ids.pinned as string]).toBe(1); // governed by `pinned`, not `web`
    expect(after[ids.other as string]).toBe(1); // no rule: never touched
    expect((await patches()).map((entry) => entry.path).sort()).toEqual(
      [`/event_streams/${ids.webA}`, `/event_streams/${ids.webC}`].sort(),
    );
    expect(result.summary).toMatchObject({ streams: 3, changed: 2, unchanged: 1, failed: 0 });

    const lines = serviceLogs.since(mark);
    const audits = lines.filter((line) => line.audit === true);
    expect(audits).toHaveLength(2);
    expect(audits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          correlation_id: 'exec-1',
          actor: { kind: 'schedule', name: 'scheduler' },
          action: 'event_stream.update',
          stream_id: ids.webA,
          changes: { sampling_rate: { before: 1, after: 0.25 } },
          context: {
            cause: 'boundary',
            rule: 'web',
            window: 'quiet',
            scheduled_time: iso(boundary),
          },
          outcome: 'success',
        }),
        expect.objectContaining({ stream_id: ids.webC, outcome: 'success' }),
      ]),
    );
    expect(lines.filter((line) => line.message === 'run')).toEqual([
      expect.objectContaining({
        level: 'INFO',
        operation: 'applySamplingSchedule',
        cause: 'boundary',
        summary: expect.objectContaining({ changed: 2 }),
        ngrok: { calls: 3, retries: 0, failed: 0 },
      }),
    ]);
  });

  it('changes nothing on a second delivery or a retry of the same event', async () => {
    await runEvent(boundaryEvent());
    await control(ctx.url, 'DELETE', '/requests');

    const again = await runEvent(boundaryEvent());

    expect(await patches()).toEqual([]);
    expect(again.summary).toMatchObject({ changed: 0, unchanged: 3 });
  });

  it('leaves a change made by hand alone until the rule’s next boundary', async () => {
    await runEvent(boundaryEvent());
    // A manual change after the boundary; then the api rule's enforce run, and a stray event of
    // `web` at a time that is not its boundary, both come.
    await fetch(`${ctx.url}/event_streams/${ids.webA}`, {
      method: 'PATCH',
      headers: {
        authorization: `Bearer ${ctx.apiKey}`,
        'ngrok-version': '2',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ sampling_rate: 0.9 }),
    });
    await control(ctx.url, 'DELETE', '/requests');

    const stray = await runEvent(boundaryEvent(boundary + MINUTE));
    const enforced = await runEvent({ cause: 'enforce', rules: ['api'] });

    expect(stray.skipped).toEqual([
      { rule: 'web', reason: 'the scheduled time is not a boundary of this rule' },
    ]);
    expect((await patches()).map((entry) => entry.path)).toEqual([`/event_streams/${ids.apiX}`]);
    expect(enforced.summary).toMatchObject({ changed: 1 });
    expect((await rates())[ids.webA as string]).toBe(0.9);
  });

  it('does nothing for a late retry after the rule’s next boundary has passed', async () => {
    // Yesterday's window started at the same time and ended 18 hours ago.
    const result = await runEvent(boundaryEvent(boundary - 24 * HOUR));

    expect(result.skipped).toEqual([
      { rule: 'web', reason: 'a later boundary has passed: its run sets the streams' },
    ]);
    expect((await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok')).toEqual([]);
  });

  it('sets every other stream when one fails, then fails the invocation so that it is retried', async () => {
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: `/event_streams/${ids.webA}`,
      status: 500,
      times: 4,
    });
    const mark = serviceLogs.mark();

    await expect(runEvent(boundaryEvent())).rejects.toMatchObject({
      name: 'SamplingRunError',
      summary: expect.objectContaining({ changed: 1, failed: 1 }),
    });

    expect((await rates())[ids.webC as string]).toBe(0.25);
    const lines = serviceLogs.since(mark);
    expect(lines.find((line) => line.message === 'run')).toMatchObject({
      level: 'ERROR',
      failed_streams: [{ id: ids.webA, error: 'ngrok answered HTTP 500' }],
    });
    expect(lines.find((line) => line.audit === true && line.stream_id === ids.webA)).toMatchObject({
      outcome: 'failure',
      error: { name: 'NgrokApiError', status: 500 },
    });

    // The retry finishes the job and touches only the stream that failed.
    await control(ctx.url, 'DELETE', '/requests');
    const retried = await runEvent(boundaryEvent());
    expect((await patches()).map((entry) => entry.path)).toEqual([`/event_streams/${ids.webA}`]);
    expect(retried.summary).toMatchObject({ changed: 1, failed: 0 });
  });

  it('stops setting a rule’s streams when its next boundary passes during the run', async () => {
    // The clock jumps past the window's end (six hours on) as soon as the first stream is set.
    const realNow = Date.now.bind(Date);
    let offset = 0;
    const stop = onServiceLine((line) => {
      if (line.includes('"audit":true')) offset = 7 * HOUR;
    });
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
    try {
      const result = await runEvent(boundaryEvent());

      expect(result.summary).toMatchObject({ changed: 1, unchanged: 2, failed: 0 });
      expect(result.streams.filter((stream) => stream.error !== undefined)).toEqual([
        expect.objectContaining({
          action: 'unchanged',
          error: 'not set: a later boundary of its rule passed during the run, and sets it',
        }),
      ]);
      expect(await patches()).toHaveLength(1);
    } finally {
      clock.mockRestore();
      stop();
    }
  });

  it('refuses an event that is not one, before any ngrok call', async () => {
    await expect(runEvent({ cause: 'boundary', rules: ['web'] })).rejects.toMatchObject({
      name: 'JobInputError',
      message: expect.stringContaining('scheduled_time a boundary event needs scheduled_time'),
    });
    await expect(runEvent({ cause: 'sometimes', rules: [] })).rejects.toMatchObject({
      name: 'JobInputError',
    });
    expect((await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok')).toEqual([]);
  });

  it('sets 300 of 1,000 streams under the ngrok rate limit, waiting as Retry-After says', async () => {
    await control(ctx.url, 'POST', '/reset');
    const [destination] = (
      await control<{ event_destinations: string[] }>(ctx.url, 'POST', '/seed', {
        event_destinations: [
          {
            description: 'd',
            format: 'json',
            target: {
              kinesis: {
                auth: { role: { role_arn: 'arn:aws:iam::123456789012:role/r' } },
                stream_arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
              },
            },
          },
        ],
      })
    ).event_destinations;
    const streams = Array.from({ length: 1000 }, (_, index) => ({
      description: `web/${index}`,
      sampling_rate: index % 10 < 3 ? 1 : 0.25,
      event_type: 'http_request_complete',
      destination_ids: [destination],
    }));
    await control(ctx.url, 'POST', '/seed', { event_streams: streams });
    // ngrok's 120 requests a minute, in a window shortened to 2 s; the run's budget is above it.
    await control(ctx.url, 'PATCH', '/config', { rate_limit: { limit: 120, window_seconds: 2 } });
    await control(ctx.url, 'DELETE', '/requests');

    const result = await runEvent(boundaryEvent(), 120_000);

    const log = (await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok');
    expect(result.summary).toEqual({
      streams: 1000,
      change: 0,
      none: 0,
      held: 0,
      changed: 300,
      unchanged: 700,
      failed: 0,
    });
    expect(log.filter((entry) => entry.method === 'PATCH' && entry.status === 200)).toHaveLength(
      300,
    );
    expect(log.filter((entry) => entry.method === 'GET' && entry.status === 200)).toHaveLength(10);
    expect(log.some((entry) => entry.status === 429)).toBe(true);
  });
});

describe('GET /sampling/plan', () => {
  const plan = (query: Record<string, string> = {}, token = tokens.read) =>
    invoke(getSamplingPlan, apiEvent({ method: 'GET', route: '/sampling/plan', query, token }));

  it('answers every governed stream with its rule, window, rates, action and next change', async () => {
    const answer = await plan();

    expect(answer.status).toBe(200);
    const byId = Object.fromEntries(
      answer.json.streams.map((stream: { id: string }) => [stream.id, stream]),
    );
    expect(Object.keys(byId).sort()).toEqual(
      [ids.webA, ids.webB, ids.webC, ids.apiX, ids.pinned].sort(),
    );
    expect(byId[ids.webA as string]).toEqual({
      id: ids.webA,
      description: 'web/a',
      rule: 'web',
      window: 'quiet',
      current_rate: 1,
      desired_rate: 0.25,
      override: null,
      action: 'change',
      next_change: {
        at: iso(boundary + 6 * HOUR),
        local: `${iso(boundary + 6 * HOUR).slice(0, 19)}+00:00`,
        timezone: 'UTC',
        rate: 1,
        source: 'schedule',
      },
    });
    expect(byId[ids.webB as string]).toMatchObject({ action: 'none', desired_rate: 0.25 });
    expect(byId[ids.pinned as string]).toMatchObject({
      rule: 'pinned',
      window: null,
      next_change: null,
    });
    expect(answer.json.summary).toEqual({
      streams: 5,
      change: 4,
      none: 1,
      held: 0,
      changed: 0,
      unchanged: 0,
      failed: 0,
    });
    expect(await patches()).toEqual([]);
  });

  it('plans for another instant, and refuses one that is not RFC 3339', async () => {
    const later = await plan({ at: new Date(boundary + 7 * HOUR).toISOString() });
    const bad = await plan({ at: 'tomorrow' });
    const ancient = await plan({ at: '0050-06-01T12:00:00Z' });

    expect(
      later.json.streams.find((stream: { id: string }) => stream.id === ids.webA),
    ).toMatchObject({
      window: null,
      desired_rate: 1,
      action: 'none',
    });
    expect(ancient.json.errors).toEqual([
      { field: 'query.at', message: 'must be an instant from 1970 to 9999' },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual([
      { field: 'query.at', message: expect.stringContaining('RFC 3339') },
    ]);
  });
});

describe('POST /sampling/apply', () => {
  const apply = (body?: unknown, token = tokens.write) =>
    invoke(applySampling, apiEvent({ method: 'POST', route: '/sampling/apply', body, token }));

  it('previews with dry_run and changes nothing', async () => {
    const answer = await apply({ dry_run: true });

    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ dry_run: true, summary: { change: 4, none: 1 } });
    expect(await patches()).toEqual([]);
  });

  it('applies what holds now, auditing each change with the caller; again, it changes nothing', async () => {
    const mark = serviceLogs.mark();
    const first = await apply();
    await control(ctx.url, 'DELETE', '/requests');
    const second = await apply();

    expect(first.status).toBe(200);
    expect(first.json.summary).toMatchObject({ changed: 4, unchanged: 1, failed: 0 });
    expect(await rates()).toMatchObject({
      [ids.webA as string]: 0.25,
      [ids.apiX as string]: 0.5,
      [ids.pinned as string]: 0.75,
      [ids.other as string]: 1,
    });
    const audits = serviceLogs.since(mark).filter((line) => line.audit === true);
    expect(audits).toHaveLength(4);
    expect(audits[0]).toMatchObject({
      actor: { kind: 'http', name: 'ci' },
      context: expect.objectContaining({ cause: 'apply' }),
    });
    expect(second.json.summary).toMatchObject({ changed: 0, unchanged: 5 });
    expect(await patches()).toEqual([]);
  });

  it('answers 502 with the whole list when a stream fails; the others are set', async () => {
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: `/event_streams/${ids.apiX}`,
      status: 503,
      times: 4,
    });

    const answer = await apply();

    expect(answer.status).toBe(502);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.json).toMatchObject({
      type: 'tag:ngrok-event-streams-automation,2026:problem:sampling-apply-incomplete',
      status: 502,
      summary: { changed: 3, failed: 1, unchanged: 1 },
    });
    expect(
      answer.json.streams.find((stream: { id: string }) => stream.id === ids.apiX),
    ).toMatchObject({
      action: 'failed',
      error: 'ngrok answered HTTP 503',
    });
  });

  it('needs the write scope, and refuses unknown fields', async () => {
    expect((await apply(undefined, tokens.read)).status).toBe(403);
    const unknown = await apply({ dryrun: true });
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors).toEqual([
      { field: 'body.dryrun', message: 'is not a known field' },
    ]);
    expect(await patches()).toEqual([]);
  });
});
