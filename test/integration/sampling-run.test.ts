/**
 * The way in to a sampling run (lib/sampling/session.ts) and what a run does (lib/sampling/run.ts),
 * against the sandbox over real HTTP: the deadline each caller's options give the run and its
 * requests, a plan of named rules each at its own instant, pages asked for in the pacer's turn, and
 * an apply that stops starting PATCHes when too little time is left.
 */
import type { NgrokCallContext } from '../../lib/call-ngrok.ts';
import { NgrokTimeoutError } from '../../lib/ngrok/errors.ts';
import { validatePolicy } from '../../lib/sampling/policy.ts';
import { apply, listStreams, plan } from '../../lib/sampling/run.ts';
import { type RunTime, samplingRun } from '../../lib/sampling/session.ts';
import { OVERRIDE_ENV, OVERRIDES_TABLE } from '../helpers/lambda.ts';
import { serviceLogs } from '../helpers/logs.ts';
import { webQuietRule } from '../helpers/sampling-policy.ts';
import { control, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
const savedEnv = { ...process.env };
const savedPolicy = globalThis.__samplingPolicy;

const HOUR = 3_600_000;
/** The `web` window's start: a minute ago, on the minute. */
let boundary: number;

function context(remainingMs = 30_000): NgrokCallContext & { record: { ngrokCalls: unknown[] } } {
  const deadline = Date.now() + remainingMs;
  return {
    serviceSecret: { ngrok_api_key: ctx.apiKey, callers: [] },
    getRemainingTimeInMillis: () => deadline - Date.now(),
    record: { ngrokCalls: [] },
  };
}

async function ngrokRequests() {
  return (await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok');
}

async function seed(streams: { description: string; sampling_rate: number }[]) {
  return (
    await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
      event_streams: streams.map((stream) => ({
        ...stream,
        event_type: 'http_request_complete',
        destination_ids: [ctx.destinationIds[0]],
      })),
    })
  ).event_streams;
}

beforeEach(async () => {
  await control(ctx.url, 'PUT', `/dynamodb/tables/${OVERRIDES_TABLE}`, {
    keys: ['stream_id', 'key'],
  });
  Object.assign(process.env, OVERRIDE_ENV, {
    AWS_ENDPOINT_URL_DYNAMODB: ctx.url,
    AWS_ACCESS_KEY_ID: ctx.sandbox.awsCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.sandbox.awsCredentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
  process.env.NGROK_API_URL = ctx.url;
  process.env.SAMPLING_REQUESTS_PER_MINUTE = '6000';
  boundary = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
  globalThis.__samplingPolicy = validatePolicy({
    timezone: 'UTC',
    rules: [
      webQuietRule(boundary),
      { name: 'api', streams: { description_prefix: 'api/' }, default_rate: 0.5 },
    ],
  });
});
afterAll(() => {
  process.env = savedEnv;
  globalThis.__samplingPolicy = savedPolicy;
});

describe('samplingRun: the run each caller gets', () => {
  /** The run's deadline and its requests', from a clock that stands still. */
  const deadlines = async (remainingMs: number, time: (now: number) => RunTime = () => ({})) => {
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    try {
      return await samplingRun(
        context(remainingMs),
        async (run) => ({ run: run.deadline - now, call: (run.call.deadline ?? 0) - now }),
        time(now),
      );
    } finally {
      clock.mockRestore();
    }
  };

  it('ends with the ngrok call, kept back from the Lambda’s end as every call is (the HTTP routes)', async () => {
    expect(await deadlines(10_000)).toEqual({ run: 9_700, call: 9_700 });
  });

  it('reserve: the run and each request end that much sooner (the Slack worker’s post)', async () => {
    expect(await deadlines(60_000, () => ({ reserve: 20_000 }))).toEqual({
      run: 39_700,
      call: 39_700,
    });
  });

  it('stopEarly: no request is started in that time, one started may use it (the boundary run)', async () => {
    expect(await deadlines(60_000, () => ({ stopEarly: 1_000 }))).toEqual({
      run: 58_700,
      call: 59_700,
    });
  });

  it('until: the run and each request are over by then, if sooner (Slack’s 3 seconds)', async () => {
    expect(await deadlines(10_000, (now) => ({ until: now + 1_700 }))).toEqual({
      run: 1_700,
      call: 1_700,
    });
    expect(await deadlines(1_000, (now) => ({ until: now + 1_700 }))).toEqual({
      run: 700,
      call: 700,
    });
  });

  it('reports every exchange with ngrok to the invocation’s request line', async () => {
    const invocation = context();

    await samplingRun(invocation, (run) => plan(run, Date.now()));

    expect(invocation.record.ngrokCalls).toEqual([
      expect.objectContaining({ operation: 'event_streams.list' }),
    ]);
  });
});

describe('plan and apply', () => {
  it('plans the rules an instant map names, each at its own instant, and no others', async () => {
    const [web, , api] = await seed([
      { description: 'web/a', sampling_rate: 1 },
      { description: 'other/b', sampling_rate: 1 },
      { description: 'api/c', sampling_rate: 1 },
    ]);
    const later = boundary + 7 * HOUR;

    const all = await samplingRun(context(), (run) => plan(run, boundary));
    const named = await samplingRun(context(), (run) => plan(run, new Map([['web', later]])));

    expect(all.streams.map((stream) => [stream.id, stream.desired_rate])).toEqual([
      [api, 0.5],
      [web, 0.25],
    ]);
    expect(all.summary).toMatchObject({ streams: 2, change: 2 });
    expect(named.streams).toEqual([
      expect.objectContaining({ id: web, rule: 'web', window: null, desired_rate: 1 }),
    ]);
    expect(named.summary).toMatchObject({ streams: 1, none: 1, change: 0 });
  });

  it('asks for each page in the pacer’s turn, and stops when the next turn would come too late', async () => {
    await seedStreams(ctx.url, ctx.destinationIds[0] as string, 150);
    process.env.SAMPLING_REQUESTS_PER_MINUTE = '1'; // one request, then one a minute

    await expect(samplingRun(context(), (run) => plan(run, Date.now()))).rejects.toThrow(
      NgrokTimeoutError,
    );
    const listed = await samplingRun(context(), async (run) => {
      const seen: string[] = [];
      const pages: number[] = [];
      const walk = listStreams(run, {
        beforePage: (index) => pages.push(index),
        outOfTime: () => new Error(`out of time after ${seen.length} streams`),
      });
      await expect(
        (async () => {
          for await (const stream of walk) seen.push(stream.id);
        })(),
      ).rejects.toThrow('out of time after 100 streams');
      return pages;
    });

    expect(listed).toEqual([0, 1]);
    expect((await ngrokRequests()).map((entry) => entry.query)).toEqual([
      '?limit=100',
      '?limit=100',
    ]);
  });

  it('applies each change with an audit line, and starts no PATCH with too little time left', async () => {
    const [webA, webB] = await seed([
      { description: 'web/a', sampling_rate: 1 },
      { description: 'web/b', sampling_rate: 0.25 },
    ]);
    const mark = serviceLogs.mark();
    const options = { actor: { kind: 'http', name: 'test' }, cause: 'apply' } as const;

    const short = await samplingRun(context(), (run) => apply(run, Date.now(), options), {
      until: Date.now() + 1_500,
    });
    const applied = await samplingRun(context(), (run) => apply(run, Date.now(), options));

    expect(short.streams).toEqual([
      expect.objectContaining({ id: webB, action: 'unchanged' }),
      expect.objectContaining({
        id: webA,
        action: 'failed',
        error: 'not reached before the deadline: run again to finish',
      }),
    ]);
    expect(applied.summary).toMatchObject({ streams: 2, changed: 1, unchanged: 1, failed: 0 });
    expect(
      (await ngrokRequests()).filter((entry) => entry.method === 'PATCH').map((e) => e.path),
    ).toEqual([`/event_streams/${webA}`]);
    expect(serviceLogs.since(mark).filter((line) => line.audit === true)).toEqual([
      expect.objectContaining({
        actor: { kind: 'http', name: 'test' },
        stream_id: webA,
        changes: { sampling_rate: { before: 1, after: 0.25 } },
        context: { cause: 'apply', rule: 'web', window: 'quiet' },
        outcome: 'success',
      }),
    ]);
  });
});
