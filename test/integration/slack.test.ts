/**
 * The Slack command, in-process against the sandbox: signature checks, every command's answer,
 * refusals, the hand-off to the worker (an asynchronous Lambda invoke, which the sandbox records
 * and the test delivers, once and twice), and what the worker posts to the response_url (the
 * sandbox's catcher). Idempotency records live in the sandbox's DynamoDB.
 */
import { randomBytes } from 'node:crypto';
import { handler as slackCommand } from '../../functions/slackCommand.ts';
import { handler as slackWorker } from '../../functions/slackWorker.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import { MAX_BLOCKS, MAX_SECTION_CHARS } from '../../lib/slack/messages.ts';
import { slackSignature } from '../../lib/slack/signature.ts';
import {
  type Answer,
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  type ServiceTokens,
  storeServiceSecret,
} from '../helpers/lambda.ts';
import { registerSecret, serviceLogs } from '../helpers/logs.ts';
import { control, injectFault, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
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
