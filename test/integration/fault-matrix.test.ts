/**
 * Every fault of ngrok and of Secrets Manager, on every route that uses them (the handlers
 * in-process, the faults injected in the sandbox): each gives the status docs/http-api.md's table
 * documents, within the function's deadline, and a create is never made twice.
 */

import { handler as slackCommand } from '../../functions/slackCommand.ts';
import { allOverrides, putOverride } from '../../lib/overrides/store.ts';
import { Problem } from '../../lib/schemas/problem.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import { slackSignature } from '../../lib/slack/signature.ts';
import { SAMPLE_EVENT_STREAM_ID, seedSamples } from '../../sandbox/server.ts';
import {
  apiEvent,
  configureService,
  invoke,
  lambdaContext,
  SECRET_NAME,
  type ServiceTokens,
  storeServiceSecret,
} from '../helpers/lambda.ts';
import { registerSecret } from '../helpers/logs.ts';
import { BEARER_ROUTES, routeKey, sampleEvent } from '../helpers/routes.ts';
import { control, injectFault, seedStreams, useSandbox } from '../helpers/sandbox.ts';

jest.setTimeout(60_000);

const ctx = useSandbox();
const SIGNING_SECRET = 'fault-matrix-signing-secret';
/** The function's time: faults that hang are cut short within it. */
const DEADLINE_MS = 1_500;
let tokens: ServiceTokens;
let streamId: string;
const savedEnv = { ...process.env };

beforeAll(() => registerSecret(SIGNING_SECRET));
beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  await storeServiceSecret(ctx.url, ctx.apiKey, tokens, {
    slack: { signing_secret: SIGNING_SECRET, team_ids: ['T0F'], allowed_user_ids: ['U0F'] },
  });
  Object.assign(process.env, {
    SLACK_RESPONSE_URL_PREFIXES: `${ctx.url}/_sandbox/slack/response/`,
  });
  [streamId] = (await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1)) as [string];
  // What the sample events name: the sample destinations and stream.
  seedSamples(ctx.sandbox.state);
  // An override of the sample stream: GET /sampling/overrides then reads it from ngrok.
  await putOverride({
    stream_id: SAMPLE_EVENT_STREAM_ID,
    key: 'manual',
    sampling_rate: 1,
    starts_at: Date.now() - 60_000,
    expires_at: Date.now() + 3_600_000,
    created_at: Date.now() - 60_000,
    reason: 'fault matrix',
    actor: { kind: 'http', name: 'ci' },
  });
});
afterAll(() => {
  process.env = savedEnv;
});

interface Route {
  name: string;
  handler: unknown;
  event: () => ReturnType<typeof apiEvent>;
  /** What a create's sample event names its stream: none may be made twice. */
  creates?: string;
  /** An alert webhook: it answers 200 whatever ngrok does (the override is stored first). */
  storesFirst?: boolean;
}

/** Every route callers reach with a token, with its sample event (events/): a valid request. */
const ROUTES: Route[] = BEARER_ROUTES.map((route) => {
  const scope = route.auth !== 'none' && 'bearer' in route.auth ? route.auth.bearer : 'write';
  const token = () =>
    scope === 'read' ? tokens.read : scope === 'alerts' ? (tokens.alerts as string) : tokens.write;
  const sample = sampleEvent(route.function, 'x');
  const description =
    route.method === 'POST' && route.idempotencyKey
      ? (JSON.parse(sample.body ?? '{}') as { description?: string }).description
      : undefined;
  return {
    name: routeKey(route),
    handler: route.handler,
    event: () => sampleEvent(route.function, token()),
    ...(description ? { creates: description } : {}),
    ...(scope === 'alerts' ? { storesFirst: true } : {}),
  };
});

/** Every ngrok path (a collection, or one of its items) a route's first call may use. */
const NGROK_PATHS = ['/*', '/*/*'];

interface Fault {
  name: string;
  fault: Record<string, unknown>;
  /** The status the route answers; a Retry-After it must carry. */
  status: number;
  retryAfter?: string;
}

const NGROK_FAULTS: Fault[] = [
  {
    name: 'ngrok 429 with Retry-After',
    fault: { status: 429, retry_after: 120, error_code: 'ERR_NGROK_226', times: 10 },
    status: 429,
    retryAfter: '120',
  },
  {
    name: 'ngrok 429 without Retry-After',
    fault: { status: 429, error_code: 'ERR_NGROK_226', times: 10 },
    status: 429,
    retryAfter: '60',
  },
  { name: 'ngrok 500', fault: { status: 500, times: 10 }, status: 502 },
  { name: 'ngrok 502', fault: { status: 502, times: 10 }, status: 502 },
  { name: 'ngrok 503', fault: { status: 503, times: 10 }, status: 502 },
  { name: 'ngrok hangs past the deadline', fault: { delay_ms: 20_000, times: 10 }, status: 504 },
  {
    name: 'the connection drops before ngrok acts',
    fault: { drop: 'before', times: 10 },
    status: 502,
  },
  {
    name: 'the connection drops after ngrok acted',
    fault: { drop: 'after', times: 10 },
    status: 502,
  },
  {
    name: 'ngrok answers 200 with a page',
    fault: { status: 200, body: '<html>maintenance</html>', times: 10 },
    status: 502,
  },
];

const SECRET_FAULTS: Fault[] = [
  {
    name: 'Secrets Manager: secret not found',
    fault: { status: 400, error_code: 'ResourceNotFoundException', times: 10 },
    status: 500,
  },
  {
    name: 'Secrets Manager: throttled',
    fault: { status: 400, error_code: 'ThrottlingException', times: 10 },
    status: 500,
  },
  { name: 'Secrets Manager hangs', fault: { delay_ms: 20_000, times: 10 }, status: 500 },
];

async function streamsNamed(description: string): Promise<number> {
  return [...ctx.sandbox.state.streams.values()].filter(
    (stream) => stream.description === description,
  ).length;
}

describe.each(ROUTES.map((route) => [route.name, route] as const))(
  'Fault matrix: %s',
  (_name, route) => {
    it.each(NGROK_FAULTS.map((fault) => [fault.name, fault] as const))(
      '%s',
      async (_fault, { fault, status, retryAfter }) => {
        for (const path of NGROK_PATHS) await injectFault(ctx.url, { method: '*', path, ...fault });
        const started = Date.now();

        const answer = await invoke(route.handler, route.event(), lambdaContext(DEADLINE_MS));

        expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 500);
        if (route.storesFirst) {
          // Never a 5xx for ngrok: the override is stored, and its runs set the stream.
          expect([answer.status, answer.json.detail]).toEqual([200, undefined]);
          expect(
            (await allOverrides()).filter((each) => each.key.startsWith('alertmanager:')),
          ).not.toEqual([]);
          return;
        }
        // An apply that could not list the streams fails as the list did.
        expect(answer.status).toBe(status);
        expect(answer.headers['content-type']).toBe('application/problem+json');
        expect(Problem.parse(answer.json).status).toBe(status);
        if (retryAfter) expect(answer.headers['retry-after']).toBe(retryAfter);
        if (route.creates !== undefined) {
          await control(ctx.url, 'DELETE', '/faults');
          // Never a duplicate: at most the one stream ngrok may have made before the answer was lost.
          expect(await streamsNamed(route.creates)).toBeLessThanOrEqual(
            fault.drop === 'after' ? 1 : 0,
          );
        }
      },
    );

    it.each(SECRET_FAULTS.map((fault) => [fault.name, fault] as const))(
      '%s',
      async (_fault, { fault, status }) => {
        clearServiceSecretCache();
        await injectFault(ctx.url, { method: 'POST', path: '/', ...fault });
        const started = Date.now();

        const answer = await invoke(route.handler, route.event(), lambdaContext(DEADLINE_MS));

        expect(Date.now() - started).toBeLessThan(DEADLINE_MS + 500);
        expect(answer.status).toBe(status);
        expect(Problem.parse(answer.json).status).toBe(status);
      },
    );

    it('a secret of the wrong form: 500', async () => {
      clearServiceSecretCache();
      await control(ctx.url, 'PUT', `/secrets/${SECRET_NAME}`, {
        secret_string: '{"ngrok_api_key": 7}',
      });

      const answer = await invoke(route.handler, route.event(), lambdaContext(DEADLINE_MS));

      expect(answer.status).toBe(500);
    });
  },
);

describe('Fault matrix: POST /slack/commands (errors after the signature are Slack messages)', () => {
  function signed(text: string) {
    const body = new URLSearchParams({
      team_id: 'T0F',
      user_id: 'U0F',
      channel_id: 'C0F',
      command: '/eventstreams',
      text,
      response_url: `${ctx.url}/_sandbox/slack/response/f`,
    }).toString();
    const timestamp = String(Math.floor(Date.now() / 1000));
    return apiEvent({
      method: 'POST',
      route: '/slack/commands',
      rawBody: body,
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        'X-Slack-Request-Timestamp': timestamp,
        'X-Slack-Signature': slackSignature(SIGNING_SECRET, timestamp, Buffer.from(body)),
      },
    });
  }

  it.each(NGROK_FAULTS.map((fault) => [fault.name, fault] as const))(
    '%s: a message, within 3 s',
    async (_fault, { fault }) => {
      process.env.AWS_ENDPOINT_URL_LAMBDA = ctx.url;
      process.env.SLACK_WORKER_FUNCTION = 'worker';
      await injectFault(ctx.url, { method: '*', path: '/event_streams/*', ...fault });
      const started = Date.now();

      const answer = await invoke(slackCommand, signed(`get ${streamId}`), lambdaContext(10_000));

      expect(Date.now() - started).toBeLessThan(3_000);
      expect(answer.status).toBe(200);
      expect(answer.json).toMatchObject({ response_type: 'ephemeral', text: expect.any(String) });
    },
  );

  it('Secrets Manager hangs: 500, within 3 s', async () => {
    clearServiceSecretCache();
    await injectFault(ctx.url, { method: 'POST', path: '/', delay_ms: 20_000, times: 10 });
    const started = Date.now();

    const answer = await invoke(slackCommand, signed('help'), lambdaContext(10_000));

    expect(Date.now() - started).toBeLessThan(3_000);
    expect(answer.status).toBe(500);
  });
});
