/**
 * The Slack command, in-process against the sandbox: signature checks, every command's answer,
 * refusals, the hand-off to the worker (an asynchronous Lambda invoke, which the sandbox records
 * and the test delivers, once and twice), and what the worker posts to the response_url (the
 * sandbox's catcher). Idempotency records live in the sandbox's DynamoDB, and so do the sampling
 * overrides that `sample … for` sets (their schedules in the sandbox's Scheduler).
 */
import { randomBytes } from 'node:crypto';
import { handler as slackCommand } from '../../functions/slackCommand.ts';
import { handler as slackWorker } from '../../functions/slackWorker.ts';
import { allOverrides } from '../../lib/overrides/store.ts';
import { bundledPolicy } from '../../lib/sampling/bundled.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import { MAX_BLOCKS, MAX_SECTION_CHARS } from '../../lib/slack/messages.ts';
import { slackSignature } from '../../lib/slack/signature.ts';
import {
  type Answer,
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  SCHEDULE_GROUP,
  type ServiceTokens,
  storeServiceSecret,
} from '../helpers/lambda.ts';
import { registerSecret, serviceLogs } from '../helpers/logs.ts';
import { MINUTE, oracleRates } from '../helpers/sampling-oracle.ts';
import { control, injectFault, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

// The override schedules' group exists, as infra/sampling.ts makes it; the clock fires nothing.
const ctx = useSandbox({
  rateLimit: false,
  scheduler: { groups: [SCHEDULE_GROUP], tickMs: false },
});
const savedEnv = { ...process.env };
const SIGNING_SECRET = randomBytes(16).toString('hex');
const TEAM = 'T0TEAM';
const ALLOWED = 'U0ALLOWED';
const SAMPLE = 'es_2SandboxSampleEventStream00';
const TABLE = 'slack-idempotency';
let tokens: ServiceTokens;
let catcher: string;
let streamId: string;

interface Post {
  path: string;
  body: {
    response_type: string;
    text: string;
    replace_original?: boolean;
    blocks: { text?: { text: string }; elements?: { text?: string }[] }[];
  };
}

beforeAll(async () => {
  registerSecret(SIGNING_SECRET);
  await control(ctx.url, 'PUT', `/dynamodb/tables/${TABLE}`, { keys: ['id'] });
});

async function slackSettings(settings: Record<string, unknown>) {
  await storeServiceSecret(ctx.url, ctx.apiKey, tokens, { slack: settings });
  clearServiceSecretCache();
}

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  await slackSettings({
    signing_secret: SIGNING_SECRET,
    team_ids: [TEAM],
    allowed_user_ids: [ALLOWED],
  });
  catcher = `${ctx.url}/_sandbox/slack/response/`;
  Object.assign(process.env, {
    SLACK_RESPONSE_URL_PREFIXES: catcher,
    SLACK_WORKER_FUNCTION: 'ngrok-event-streams-test-slackWorker',
    IDEMPOTENCY_TABLE: TABLE,
    AWS_ENDPOINT_URL_LAMBDA: ctx.url,
    AWS_ENDPOINT_URL_DYNAMODB: ctx.url,
  });
  [streamId] = (await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1)) as [string];
  await control(ctx.url, 'DELETE', '/requests');
});
afterAll(() => {
  process.env = savedEnv;
});

interface SendOptions {
  user?: string;
  team?: string;
  secret?: string;
  timestamp?: number;
  base64?: boolean;
  tamper?: boolean;
  headers?: Record<string, string | undefined>;
  responseUrl?: string;
}

let sequence = 0;

function slackEvent(text: string, options: SendOptions = {}) {
  const key = `cmd-${++sequence}`;
  const responseUrl = options.responseUrl ?? `${catcher}${key}`;
  registerSecret(responseUrl);
  const body = new URLSearchParams({
    token: 'deprecated',
    team_id: options.team ?? TEAM,
    team_domain: 'acme',
    channel_id: 'C0OPS',
    channel_name: 'ops',
    user_id: options.user ?? ALLOWED,
    user_name: 'ada',
    command: '/eventstreams',
    text,
    api_app_id: 'A0APP',
    response_url: responseUrl,
    trigger_id: '1.2.3',
  }).toString();
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const signature = slackSignature(options.secret ?? SIGNING_SECRET, timestamp, Buffer.from(body));
  const headers: Record<string, string> = {
    'Content-Type': 'application/x-www-form-urlencoded',
    'X-Slack-Request-Timestamp': timestamp,
    'X-Slack-Signature': signature,
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  const sent = options.tamper ? body.replace('ada', 'eve') : body;
  const event = apiEvent({
    method: 'POST',
    route: '/slack/commands',
    headers,
    rawBody: options.base64 ? Buffer.from(sent).toString('base64') : sent,
    isBase64Encoded: options.base64 ?? false,
  });
  event.requestContext.requestId = key;
  return { event, key };
}

async function send(text: string, options: SendOptions = {}): Promise<Answer & { key: string }> {
  const { event, key } = slackEvent(text, options);
  return { ...(await invoke(slackCommand, event, lambdaContext(10_000))), key };
}

async function posts(key?: string): Promise<Post[]> {
  const { responses } = await control<{ responses: Post[] }>(ctx.url, 'GET', '/slack/responses');
  return key === undefined ? responses : responses.filter((post) => post.path === key);
}

async function invocations(): Promise<
  { function: string; invocation_type: string; payload: unknown }[]
> {
  return (await control<{ invocations: never[] }>(ctx.url, 'GET', '/lambda/invocations'))
    .invocations;
}

/** Lambda delivers the worker's event (the sandbox recorded the command function's invoke). */
async function deliver(payload: unknown) {
  return (slackWorker as unknown as (e: unknown, c: unknown) => Promise<unknown>)(
    payload,
    lambdaContext(60_000),
  );
}

const textOf = (answer: { json: Post['body'] }) =>
  answer.json.blocks
    .map(
      (block) => block.text?.text ?? block.elements?.map((element) => element.text).join(' ') ?? '',
    )
    .join('\n');

async function ngrokCalls() {
  return (await requestLog(ctx.url)).filter((entry) => entry.api === 'ngrok');
}

describe('Slack: the signature', () => {
  it('lets a correctly signed request in, its body form-encoded or base64 as API Gateway sends it', async () => {
    const plain = await send('help');
    const encoded = await send('help', { base64: true });

    expect(plain.status).toBe(200);
    expect(encoded.status).toBe(200);
    expect(textOf(encoded)).toContain('/eventstreams');
  });

  it.each<[string, SendOptions, string]>([
    ['a wrong signing secret', { secret: 'not-the-secret' }, 'the signature does not match'],
    ['a timestamp 310 s old', { timestamp: Math.floor(Date.now() / 1000) - 310 }, 'away from now'],
    [
      'a timestamp 310 s ahead',
      { timestamp: Math.floor(Date.now() / 1000) + 310 },
      'away from now',
    ],
    [
      'no signature header',
      { headers: { 'X-Slack-Signature': undefined } },
      'no X-Slack-Signature',
    ],
    [
      'no timestamp header',
      { headers: { 'X-Slack-Request-Timestamp': undefined } },
      'no X-Slack-Request-Timestamp',
    ],
    ['a tampered body', { tamper: true }, 'the signature does not match'],
  ])(
    'refuses %s with 401 and no reason, logging why, before any ngrok call',
    async (_name, options, reason) => {
      const mark = serviceLogs.mark();

      const answer = await send(`get ${SAMPLE}`, options);

      expect(answer.status).toBe(401);
      expect(answer.json.detail).toBe('The request is not signed by Slack.');
      expect(answer.body).not.toContain(reason);
      expect(serviceLogs.since(mark).find((line) => line.message === 'request')).toMatchObject({
        status: 401,
        note: expect.stringContaining(reason),
      });
      expect(await ngrokCalls()).toEqual([]);
    },
  );

  it('refuses every request when the configured signing secret is empty, or Slack is not configured', async () => {
    await slackSettings({ signing_secret: '', team_ids: [TEAM], allowed_user_ids: [] });
    const empty = await send('help', { secret: '' });
    await storeServiceSecret(ctx.url, ctx.apiKey, tokens);
    clearServiceSecretCache();
    const unset = await send('help');

    expect(empty.status).toBe(401);
    expect(unset.status).toBe(401);
  });
});

describe('Slack: the commands', () => {
  it('get: the stream, its rule and when the schedule next sets it', async () => {
    const answer = await send(`get ${streamId}`);

    expect(answer.status).toBe(200);
    expect(answer.json.response_type).toBe('ephemeral');
    expect(textOf(answer)).toContain(`*${streamId}* — stream 0`);
    expect(textOf(answer)).toContain('sampling rate *1.00*');
    expect(textOf(answer)).toContain('no schedule rule governs it');
  });

  it('get of the sandbox’s sample stream names its rule of the shipped policy and the next change', async () => {
    await control(ctx.url, 'POST', '/seed', {
      event_streams: [
        {
          description: 'sandbox-example/web',
          event_type: 'http_request_complete',
          destination_ids: [ctx.destinationIds[0]],
        },
      ],
    });
    const answer = await send('list sandbox-example/');

    expect(textOf(answer)).toContain('rule `sandbox-example`');
  });

  it('list: one page answered at once, with the governing rule', async () => {
    const answer = await send('list');

    expect(answer.status).toBe(200);
    expect(textOf(answer)).toContain('*1 Event Streams*');
    expect(textOf(answer)).toContain(
      `\`${streamId}\` stream 0 — http_request_complete · *1.00* · no rule`,
    );
    expect(await invocations()).toEqual([]);
  });

  it('sample: changes the rate, says so in the channel with who and before → after, and audits it', async () => {
    const mark = serviceLogs.mark();

    const answer = await send(`sample ${streamId} 25%`);

    expect(answer.json.response_type).toBe('in_channel');
    expect(textOf(answer)).toContain(
      `<@${ALLOWED}> set the sampling rate of *${streamId}* (stream 0): 1.00 → 0.25.`,
    );
    expect(textOf(answer)).toContain('No schedule rule governs this stream.');
    expect(serviceLogs.since(mark).filter((line) => line.audit === true)).toEqual([
      expect.objectContaining({
        actor: { kind: 'slack', name: ALLOWED, team: TEAM },
        stream_id: streamId,
        changes: { sampling_rate: { before: 1, after: 0.25 } },
        context: { cause: 'slack', command: 'sample' },
        outcome: 'success',
      }),
    ]);
  });

  it('sample: refused to a user the service does not allow, with no ngrok call', async () => {
    const answer = await send(`sample ${streamId} 0.5`, { user: 'U0OTHER' });

    expect(answer.json.response_type).toBe('ephemeral');
    expect(textOf(answer)).toContain('Only the Slack users this service allows may use `sample`');
    expect(await ngrokCalls()).toEqual([]);
  });

  it('answers anything else with the help, saying what was not understood', async () => {
    for (const [text, reason] of [
      ['frobnicate', '`frobnicate` is not a command'],
      [`sample ${streamId} 150%`, '`150%` is not a rate from 0.01 to 1.00'],
      ['get nope', '`nope` is not an Event Stream id'],
      ['plan tomorrow', '`plan` takes an RFC 3339 instant'],
    ] as const) {
      const answer = await send(text);
      expect(textOf(answer)).toContain(`I did not understand that: ${reason}`);
      expect(textOf(answer)).toContain('`list [description prefix]`');
    }
  });

  it('plan and apply: acknowledged at once, done by the worker, posted once to the response_url', async () => {
    const plan = await send('plan');
    const apply = await send('apply');
    const handed = await invocations();

    expect(textOf(plan)).toContain('Working on `/eventstreams plan`…');
    expect(apply.json.response_type).toBe('in_channel');
    expect(textOf(apply)).toContain(
      `<@${ALLOWED}> asked for \`/eventstreams apply\`: working on it…`,
    );
    expect(handed.map((each) => each.invocation_type)).toEqual(['Event', 'Event']);
    expect(handed[0]).toMatchObject({
      function: 'ngrok-event-streams-test-slackWorker',
      payload: { request_id: plan.key, text: 'plan', user_id: ALLOWED, team_id: TEAM },
    });

    for (const each of handed) await deliver(each.payload);

    const [planPost] = await posts(plan.key);
    const [applyPost] = await posts(apply.key);
    expect(planPost?.body).toMatchObject({ response_type: 'ephemeral', replace_original: true });
    expect(planPost?.body.text).toMatch(/^Sampling plan at .* UTC: \d+ to change/);
    expect(applyPost?.body).toMatchObject({ response_type: 'in_channel', replace_original: true });
    expect(applyPost?.body.text).toMatch(
      new RegExp(`^<@${ALLOWED}> applied the sampling schedule: \\d+ changed`),
    );
  });

  it('a second delivery of the worker’s event posts nothing new', async () => {
    const plan = await send('plan');
    const [handed] = await invocations();

    await deliver(handed?.payload);
    await deliver(handed?.payload);

    expect(await posts(plan.key)).toHaveLength(1);
    const records = await control<{ items: unknown[] }>(
      ctx.url,
      'GET',
      `/dynamodb/tables/${TABLE}`,
    );
    expect(JSON.stringify(records.items)).toContain('COMPLETED');
  });

  it('a list of many pages goes to the worker, which answers within Slack’s limits', async () => {
    await seedStreams(ctx.url, ctx.destinationIds[0] as string, 349);
    const answer = await send('list');
    const [handed] = await invocations();
    await deliver(handed?.payload);
    const [post] = await posts(answer.key);

    expect(textOf(answer)).toContain('Working on `/eventstreams list`…');
    expect(post?.body.text).toBe('350 Event Streams');
    expect(post?.body.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    for (const block of post?.body.blocks ?? []) {
      expect((block.text?.text ?? '').length).toBeLessThanOrEqual(MAX_SECTION_CHARS);
    }
    const shown = (post?.body.blocks ?? []).map((block) => block.text?.text ?? '').join('\n');
    const listed = shown.split('\n').filter((line) => line.startsWith('`es_')).length;
    expect(listed).toBeGreaterThan(100);
    if (listed < 350) expect(JSON.stringify(post?.body)).toContain(`…and ${350 - listed} more`);
  });
});

describe('Slack: refusals and failures', () => {
  it('refuses a workspace the secret does not allow', async () => {
    const answer = await send('list', { team: 'T0ELSE' });

    expect(answer.status).toBe(200);
    expect(textOf(answer)).toBe('This Slack workspace may not use this command.');
    expect(await ngrokCalls()).toEqual([]);
  });

  it('refuses a response_url that is not on an allowed origin, and never posts there', async () => {
    const answer = await send('plan', { responseUrl: 'https://evil.example/hook' });

    expect(answer.status).toBe(400);
    expect(answer.json.detail).toBe('The response_url is not a Slack URL.');
    expect(await invocations()).toEqual([]);
    expect(await ngrokCalls()).toEqual([]);
  });

  it('tells the user what ngrok answered: a missing stream, an ngrok failure', async () => {
    const missing = await send('get es_missing0');
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', status: 500, times: 4 });
    const failing = await send(`get ${streamId}`);

    expect(missing.status).toBe(200);
    expect(textOf(missing)).toMatch(/^No Event Stream has this id \(request cmd-\d+\)\.$/);
    expect(textOf(failing)).toContain('The ngrok API answered HTTP 500');
  });

  it('answers within 3 s when ngrok hangs for 10 s, and the worker posts the result later', async () => {
    await injectFault(ctx.url, {
      method: 'GET',
      path: '/event_streams/*',
      delay_ms: 10_000,
      times: 1,
    });
    const started = Date.now();

    const answer = await send(`get ${streamId}`);

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(textOf(answer)).toContain(`Working on \`/eventstreams get ${streamId}\`…`);
    const [handed] = await invocations();
    await deliver(handed?.payload);
    const [post] = await posts(answer.key);
    expect(post?.body.text).toBe(`${streamId}: sampling rate 1.00`);
  });
});

describe('Slack: time and failures around the worker (each case failed before its fix)', () => {
  it('counts Slack’s 3 s from API Gateway’s arrival: a request that waited is handed on at once', async () => {
    const { event } = slackEvent(`get ${streamId}`);
    event.requestContext.timeEpoch = Date.now() - 1_500;
    const started = Date.now();

    const answer = await invoke(slackCommand, event, lambdaContext(10_000));

    expect(Date.now() - started).toBeLessThan(1_000);
    expect(answer.json.text).toContain('Working on');
    expect(await ngrokCalls()).toEqual([]);
    expect(await invocations()).toHaveLength(1);
  });

  it('answers within 3 s even when ngrok and the hand-off both hang', async () => {
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', delay_ms: 10_000 });
    await injectFault(ctx.url, {
      method: 'POST',
      path: '/2015-03-31/functions/*/invocations',
      delay_ms: 10_000,
    });
    const started = Date.now();

    const answer = await send(`get ${streamId}`);

    expect(Date.now() - started).toBeLessThan(2_500);
    expect(answer.json.text).toContain('could not be handed on in time: it may still run');
  });

  it('runs the command once when Slack does not take the post: the post is retried, not the command', async () => {
    const answer = await send('apply');
    const [handed] = await invocations();
    await injectFault(ctx.url, {
      method: 'POST',
      path: `/_sandbox/slack/response/${answer.key}`,
      status: 500,
      times: 2,
    });

    const result = await deliver(handed?.payload);
    await deliver(handed?.payload);

    expect(result).toEqual({ posted: true });
    expect(await posts(answer.key)).toHaveLength(1);
    expect(
      (await ngrokCalls()).filter(
        (entry) => entry.method === 'GET' && entry.path === '/event_streams',
      ),
    ).toHaveLength(1);
  });

  it('escapes what comes from ngrok: a description cannot mention @channel', async () => {
    await control(ctx.url, 'POST', '/seed', {
      event_streams: [
        {
          description: 'evil <!channel> <@U0ALLOWED>',
          event_type: 'http_request_complete',
          destination_ids: [ctx.destinationIds[0]],
        },
      ],
    });

    const answer = await send('list evil');

    expect(textOf(answer)).toContain('evil &lt;!channel&gt; &lt;@U0ALLOWED&gt;');
    expect(textOf(answer)).not.toContain('<!channel>');
  });
});

describe('Slack: sampling overrides', () => {
  const RULE = 'sandbox-example';
  const ZONE = 'Europe/Berlin';
  let governed: string;

  beforeEach(async () => {
    [governed] = (
      await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
        event_streams: [
          {
            description: 'sandbox-example/web',
            event_type: 'http_request_complete',
            destination_ids: [ctx.destinationIds[0]],
            sampling_rate: 1,
          },
        ],
      })
    ).event_streams as [string];
    await control(ctx.url, 'DELETE', '/requests');
  });

  /** The schedule's rate at an instant, by the oracle (no code shared with lib/sampling). */
  function scheduleRate(instant: number): number {
    const rule = bundledPolicy().rules.find((each) => each.name === RULE);
    if (!rule) throw new Error(`no rule ${RULE}`);
    const minute = Math.floor(instant / MINUTE) * MINUTE;
    return oracleRates(rule, minute, minute + MINUTE)[0] as number;
  }

  /** `2027-03-28 14:30`: the zone's clock, by Intl. */
  function wall(instant: number, zone: string): string {
    return new Intl.DateTimeFormat('sv-SE', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(instant);
  }

  /** The command, answered at once and handed on; then the worker's post. */
  async function viaWorker(text: string, options: SendOptions = {}) {
    const answer = await send(text, options);
    const handed = (await invocations()).filter(
      (each) => (each.payload as { request_id: string }).request_id === answer.key,
    );
    expect(handed).toHaveLength(1);
    await deliver(handed[0]?.payload);
    const [post] = await posts(answer.key);
    if (!post) throw new Error(`the worker posted nothing for ${text}`);
    return { answer, post, text: textOf({ json: post.body }) };
  }

  async function rateOf(id: string): Promise<string> {
    const answer = await send(`get ${id}`);
    return /sampling rate \*([\d.]+)\*/.exec(textOf(answer))?.[1] ?? '';
  }

  it('sample … for: the worker sets the stream and stores the override; get and overrides show it; release ends it', async () => {
    const mark = serviceLogs.mark();

    // The command function only hands it on: its role may not write overrides.
    const answer = await send(`sample ${governed} 37% for 1h30m INC-1 <!channel>`);
    expect(answer.json.response_type).toBe('in_channel');
    expect(textOf(answer)).toContain(
      `<@${ALLOWED}> asked for \`/eventstreams sample ${governed} 37% for 1h30m INC-1 &lt;!channel&gt;\`: working on it…`,
    );
    expect(await allOverrides()).toEqual([]);
    expect(await ngrokCalls()).toEqual([]);

    const [handed] = await invocations();
    const setAt = Date.now();
    await deliver(handed?.payload);
    const [post] = await posts(answer.key);

    // Stored: the manual override, from now for 1h30m, with who and why.
    const [stored] = await allOverrides();
    expect(await allOverrides()).toHaveLength(1);
    expect(stored).toMatchObject({
      stream_id: governed,
      key: 'manual',
      sampling_rate: 0.37,
      reason: 'INC-1 <!channel>',
      actor: { kind: 'slack', name: ALLOWED, team: TEAM },
    });
    const expires = stored?.expires_at as number;
    expect(expires - (stored?.starts_at as number)).toBe(90 * MINUTE);
    expect(stored?.starts_at).toBeGreaterThanOrEqual(setAt);

    // Its end is scheduled, pointing from the worker's own ARN (its account) at the sampling function.
    const { schedules } = await control<{
      schedules: {
        group: string;
        name: string;
        schedule_expression: string;
        target: { Arn: string };
      }[];
    }>(ctx.url, 'GET', '/scheduler/schedules');
    expect(schedules).toEqual([
      expect.objectContaining({
        group: SCHEDULE_GROUP,
        name: expect.stringMatching(new RegExp(`^override-${governed}-[0-9a-f]{10}-end$`)),
        schedule_expression: `at(${new Date(Math.ceil(expires / 1000) * 1000).toISOString().slice(0, 19)})`,
        target: expect.objectContaining({
          Arn: 'arn:aws:lambda:us-east-1:123456789012:function:ngrok-event-streams-test-applySamplingSchedule',
        }),
      }),
    ]);

    // The answer, in the channel: who, before → after, until when (rule zone and UTC), and then.
    const utc = `${wall(expires, 'UTC')} UTC`;
    expect(post?.body).toMatchObject({ response_type: 'in_channel', replace_original: true });
    const said = textOf({ json: post?.body as Post['body'] });
    expect(said).toContain(
      `<@${ALLOWED}> set the sampling rate of *${governed}* (sandbox-example/web) to 0.37 for 1h 30m: 1.00 → 0.37, until ${wall(expires, ZONE)} ${ZONE} (${utc}).`,
    );
    expect(said).toContain(
      `Reason: INC-1 &lt;!channel&gt;. Then it goes to ${scheduleRate(expires).toFixed(2)}, the schedule's rate.`,
    );
    expect(said).not.toContain('<!channel>');
    expect(await rateOf(governed)).toBe('0.37');
    expect(serviceLogs.since(mark).filter((line) => line.audit === true)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: { kind: 'slack', name: ALLOWED, team: TEAM },
          stream_id: governed,
          changes: { sampling_rate: { before: 1, after: 0.37 } },
        }),
      ]),
    );

    // get: the override that holds.
    const got = await send(`get ${governed}`);
    expect(textOf(got)).toContain(
      `override: *0.37* until ${utc}, set by <@${ALLOWED}> — “INC-1 &lt;!channel&gt;”`,
    );

    // overrides: what holds, ephemeral, with the stream's effective rate.
    const listed = await viaWorker('overrides');
    expect(listed.post.body.response_type).toBe('ephemeral');
    expect(listed.text).toContain('*1 sampling override holds or is to come*');
    expect(listed.text).toContain(
      `\`${governed}\` *0.37* until ${utc} · <@${ALLOWED}> — “INC-1 &lt;!channel&gt;” · now *0.37*, an override's rate`,
    );

    // release: ended now; the stream goes back to the schedule's rate.
    const before = Date.now();
    const released = await viaWorker(`release ${governed}`);
    const after = Date.now();
    const back = [scheduleRate(before), scheduleRate(after)].map((rate) => rate.toFixed(2));
    expect(released.post.body.response_type).toBe('in_channel');
    expect(released.text).toMatch(
      new RegExp(
        `^<@${ALLOWED}> ended the override of \\*${governed}\\* \\(sandbox-example/web\\): 0\\.37 → (${back.join('|').replace(/\./g, '\\.')}), the schedule's rate\\.`,
      ),
    );
    expect(released.text).toContain(
      `It held 0.37, set by <@${ALLOWED}> — “INC-1 &lt;!channel&gt;”.`,
    );
    expect(back).toContain(await rateOf(governed));
    expect((await allOverrides()).filter((each) => each.expires_at > Date.now())).toEqual([]);
    expect(
      (await control<{ schedules: unknown[] }>(ctx.url, 'GET', '/scheduler/schedules')).schedules,
    ).toEqual([]);

    // Nothing left to release: said so, not an error; nothing changed.
    await control(ctx.url, 'DELETE', '/requests');
    const again = await viaWorker(`release ${governed}`);
    expect(again.text).toBe(
      `<@${ALLOWED}> asked to end the override of *${governed}*: it has none that holds or is to come, so nothing changed.`,
    );
    expect((await ngrokCalls()).filter((entry) => entry.method === 'PATCH')).toEqual([]);
    const none = await viaWorker('overrides');
    expect(none.text).toBe('*No sampling override holds or is to come*');
  });

  it('sample … for of a stream no rule governs: until in UTC alone, then back to the rate it had', async () => {
    const { text } = await viaWorker(`sample ${streamId} 0.5 for 30m`);
    const [stored] = await allOverrides();
    const expires = stored?.expires_at as number;

    expect(text).toContain(
      `<@${ALLOWED}> set the sampling rate of *${streamId}* (stream 0) to 0.50 for 30m: 1.00 → 0.50, until ${wall(expires, 'UTC')} UTC.`,
    );
    expect(text).toContain('Then it goes to 1.00, the rate it had before its overrides.');
    expect(text).not.toContain('Reason:');
    expect(stored).toMatchObject({ stream_id: streamId, sampling_rate: 0.5, reason: '' });
  });

  it('plain sample still runs at once and sets no override', async () => {
    const answer = await send(`sample ${governed} 25%`);

    expect(textOf(answer)).toContain(
      `<@${ALLOWED}> set the sampling rate of *${governed}* (sandbox-example/web): 1.00 → 0.25.`,
    );
    expect(await invocations()).toEqual([]);
    expect(await allOverrides()).toEqual([]);
  });

  it('refuses sample … for longer than the service allows at once, with the help and why', async () => {
    const answer = await send(`sample ${governed} 25% for 2d`);

    expect(answer.json.response_type).toBe('ephemeral');
    expect(textOf(answer)).toContain(
      'I did not understand that: `for 2d` gives an override of 2d, longer than the maximum of 24 hours',
    );
    expect(textOf(answer)).toContain('`release <es_id>`');
    expect(await invocations()).toEqual([]);
  });

  it('refuses sample … for and release to a user the service does not allow: nothing handed on, no ngrok call', async () => {
    for (const text of [`sample ${governed} 50% for 1h`, `release ${governed}`]) {
      const answer = await send(text, { user: 'U0OTHER' });

      expect(answer.json.response_type).toBe('ephemeral');
      expect(textOf(answer)).toContain(
        `Only the Slack users this service allows may use \`${text.split(' ')[0]}\``,
      );
    }
    expect(await invocations()).toEqual([]);
    expect(await ngrokCalls()).toEqual([]);
    expect(await allOverrides()).toEqual([]);
  });

  it('the worker refuses them too, to an event that did not come from the command function', async () => {
    const { key } = slackEvent('x');
    await deliver({
      request_id: key,
      text: `sample ${governed} 50% for 1h`,
      user_id: 'U0OTHER',
      team_id: TEAM,
      channel_id: 'C0OPS',
      response_url: `${catcher}${key}`,
    });
    const [post] = await posts(key);

    expect(post?.body.text).toContain('Only the Slack users this service allows may use `sample`');
    expect(await allOverrides()).toEqual([]);
    expect(await rateOf(governed)).toBe('1.00');
  });
});
