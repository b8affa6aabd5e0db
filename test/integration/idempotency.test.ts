/**
 * `Idempotency-Key` on POST /event-streams, in-process against the sandbox over real HTTP: the
 * real DynamoDB client keeps the keys in the sandbox's DynamoDB, the real ngrok client creates
 * streams in its API, and faults make answers get lost the ways they do in production.
 */
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { handler as createEventStream } from '../../functions/createEventStream.ts';
import { sha256Hex } from '../../lib/auth/tokens.ts';
import { fingerprintOf } from '../../lib/idempotency/key.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
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
import { control, injectFault, requestLog, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
const TABLE = 'ngrok-event-streams-test-idempotency-keys';
const PROBLEM = 'tag:ngrok-event-streams-automation,2026:problem:';
/** The settle time of these tests: short, so that a lost answer is waited out quickly. */
const SETTLE_SECONDS = 1;
let tokens: ServiceTokens;
const savedEnv = { ...process.env };

beforeAll(async () => {
  await control(ctx.url, 'PUT', `/dynamodb/tables/${TABLE}`, { keys: ['id'] });
});
beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  Object.assign(process.env, {
    IDEMPOTENCY_KEYS_TABLE: TABLE,
    IDEMPOTENCY_SETTLE_SECONDS: String(SETTLE_SECONDS),
    AWS_ENDPOINT_URL_DYNAMODB: ctx.url,
  });
});
afterAll(() => {
  process.env = savedEnv;
});

function body(overrides: Record<string, unknown> = {}) {
  return {
    event_type: 'http_request_complete',
    destination_ids: [ctx.destinationIds[0]],
    description: 'checkout',
    sampling_rate: 0.5,
    ...overrides,
  };
}

function create(
  payload: unknown,
  {
    key,
    token = tokens.write,
    remainingMs = 10_000,
  }: { key?: string; token?: string; remainingMs?: number } = {},
) {
  return invoke(
    createEventStream,
    apiEvent({
      method: 'POST',
      route: '/event-streams',
      body: payload,
      token,
      headers: key === undefined ? {} : { 'Idempotency-Key': key },
    }),
    lambdaContext(remainingMs),
  );
}

/** Retries as a client should: again after `Retry-After` while the answer is 409. */
async function createUntilAnswered(payload: unknown, key: string): Promise<Answer[]> {
  const answers: Answer[] = [];
  for (let round = 0; round < 10; round++) {
    const answer = await create(payload, { key });
    answers.push(answer);
    if (answer.status !== 409) return answers;
    await new Promise((resolve) =>
      setTimeout(resolve, Number(answer.headers['retry-after']) * 1000),
    );
  }
  throw new Error(`Still 409 after 10 tries: ${JSON.stringify(answers.at(-1)?.json)}`);
}

async function streams(): Promise<{ id: string; description: string }[]> {
  const response = await fetch(`${ctx.url}/event_streams`, {
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'ngrok-version': '2' },
  });
  return ((await response.json()) as { event_streams: { id: string; description: string }[] })
    .event_streams;
}

async function ngrokCalls() {
  return (await requestLog(ctx.url))
    .filter((entry) => entry.api === 'ngrok')
    .map((entry) => `${entry.method} ${entry.path}`);
}

function expectProblem(answer: Answer, status: number, kind: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toBe('application/problem+json');
  expect(answer.json).toMatchObject({ type: `${PROBLEM}${kind}`, status });
}

const audits = () =>
  serviceLogs
    .records()
    .filter((line) => line.audit === true && line.action === 'event_stream.create');

describe('Idempotency-Key: replay, reuse, scope', () => {
  it('without a key, creates on every request as before', async () => {
    await create(body());
    await create(body());

    expect(await streams()).toHaveLength(2);
  });

  it('answers a retry with the first answer, marked replayed, without calling ngrok', async () => {
    const first = await create(body(), { key: 'order-1' });
    await control(ctx.url, 'DELETE', '/requests');
    const retry = await create(body(), { key: 'order-1' });

    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.status).toBe(201);
    expect(retry.json).toEqual(first.json);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.headers['content-type']).toBe('application/json');
    expect(await ngrokCalls()).toEqual([]);
    expect(await streams()).toHaveLength(1);
  });

  it('takes the same body with its keys in another order, and the draft’s quoted key, as the same request', async () => {
    const first = await create(body(), { key: 'order-2' });
    const reordered = Object.fromEntries(Object.entries(body()).reverse());
    const retry = await create(reordered, { key: '"order-2"' });

    expect(retry.json).toEqual(first.json);
    expect(retry.headers['idempotent-replayed']).toBe('true');
  });

  it('refuses the same key with another body (422), without calling ngrok', async () => {
    await create(body(), { key: 'order-3' });
    await control(ctx.url, 'DELETE', '/requests');
    const reused = await create(body({ sampling_rate: 1 }), { key: 'order-3' });

    expectProblem(reused, 422, 'idempotency-key-reused');
    expect(await ngrokCalls()).toEqual([]);
    expect(await streams()).toHaveLength(1);
  });

  it('keeps keys per caller: two callers may use the same key', async () => {
    const other = 'nes_other-caller-token-0123456789';
    registerSecret(other);
    await storeServiceSecret(ctx.url, ctx.apiKey, tokens, {
      callers: [
        { name: 'ci', token_sha256: sha256Hex(tokens.write), scopes: ['read', 'write'] },
        { name: 'deployer', token_sha256: sha256Hex(other), scopes: ['write'] },
      ],
    });
    clearServiceSecretCache();

    const mine = await create(body(), { key: 'shared' });
    const theirs = await create(body(), { key: 'shared', token: other });

    expect(mine.status).toBe(201);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json.id).not.toBe(mine.json.id);
    expect(await streams()).toHaveLength(2);
  });

  it('refuses a malformed key with 400 before anything is done', async () => {
    for (const key of ['x'.repeat(256), 'two words', '', 'k1,k2']) {
      const answer = await create(body(), { key });

      expectProblem(answer, 400, 'validation-failed');
      expect(answer.json.errors).toEqual([
        { field: 'header.idempotency-key', message: expect.stringContaining('visible ASCII') },
      ]);
    }
    expect(await ngrokCalls()).toEqual([]);
  });

  it('checks the body before the key: a bad body is 400 and leaves the key unused', async () => {
    const bad = await create(body({ sampling_rate: 0 }), { key: 'order-4' });
    const good = await create(body(), { key: 'order-4' });

    expectProblem(bad, 400, 'validation-failed');
    expect(good.status).toBe(201);
    expect(good.headers['idempotent-replayed']).toBeUndefined();
  });

  it('forgets a key after 24 hours, whether or not DynamoDB’s TTL has removed it yet', async () => {
    const first = await create(body(), { key: 'order-5' });
    const dynamodb = new DynamoDBClient({});
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          id: { S: JSON.stringify(['POST /event-streams', 'ci', 'order-5']) },
          state: { S: 'completed' },
          attempt: { S: 'old' },
          fingerprint: { S: 'whatever' },
          started_at: { N: String(Date.now() - 25 * 3600_000) },
          in_flight_until: { N: String(Date.now() - 25 * 3600_000) },
          expires_at: { N: String(Math.floor(Date.now() / 1000) - 3600) },
          response: { S: JSON.stringify({ statusCode: 201, headers: {}, body: '{}' }) },
        },
      }),
    );
    const later = await create(body({ sampling_rate: 1 }), { key: 'order-5' });

    expect(first.status).toBe(201);
    expect(later.status).toBe(201);
    expect(later.headers['idempotent-replayed']).toBeUndefined();
    expect(later.json.id).not.toBe(first.json.id);
  });
});

describe('Idempotency-Key: in flight and concurrent', () => {
  it('tells a retry that comes while the first request runs to wait (409, Retry-After), then replays', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', delay_ms: 1500 });
    const first = create(body(), { key: 'slow' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const during = await create(body(), { key: 'slow' });
    const done = await first;
    const after = await create(body(), { key: 'slow' });

    expectProblem(during, 409, 'idempotency-key-in-flight');
    expect(during.headers['retry-after']).toBe('1');
    expect(done.status).toBe(201);
    expect(after.json).toEqual(done.json);
    expect(after.headers['idempotent-replayed']).toBe('true');
    expect(await streams()).toHaveLength(1);
  });

  it('creates once when many requests with one key arrive at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => create(body(), { key: 'burst' })),
    );
    const created = answers.filter((answer) => answer.status === 201);

    expect(await streams()).toHaveLength(1);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((answer) => answer.json.id)).size).toBe(1);
    for (const answer of answers.filter((each) => each.status !== 201)) {
      expectProblem(answer, 409, 'idempotency-key-in-flight');
    }
    expect(
      answers.filter((a) => a.status === 201 && !a.headers['idempotent-replayed']),
    ).toHaveLength(1);
  });
});

describe('Idempotency-Key: a create whose answer was lost', () => {
  it('after a dropped answer, a retry finds the stream the lost attempt made: one stream, 201', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'after' });
    const lost = await create(body(), { key: 'dropped' });
    const [made] = await streams();
    const retries = await createUntilAnswered(body(), 'dropped');
    const answer = retries.at(-1) as Answer;

    expectProblem(lost, 502, 'upstream-error');
    // The first retry comes while ngrok may still act on the lost request: it waits.
    expectProblem(retries[0] as Answer, 409, 'idempotency-key-in-flight');
    expect(answer.status).toBe(201);
    expect(answer.json.id).toBe(made?.id);
    expect(await streams()).toHaveLength(1);
    expect((await ngrokCalls()).filter((call) => call.startsWith('POST'))).toHaveLength(1);
    expect(audits().at(-1)).toMatchObject({ outcome: 'recovered', stream_id: made?.id });
    // And the recovered answer is kept: the next retry replays it.
    const again = await create(body(), { key: 'dropped' });
    expect(again.json).toEqual(answer.json);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('after a timeout, retries until one succeeds leave exactly one stream, made after the deadline', async () => {
    // The function's deadline comes 1.2 s in; ngrok acts at 1.8 s, within the settle time after.
    process.env.IDEMPOTENCY_SETTLE_SECONDS = '2';
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', delay_ms: 1800 });
    const lost = await create(body(), { key: 'slow-ngrok', remainingMs: 1500 });
    const atLoss = await streams();
    const retries = await createUntilAnswered(body(), 'slow-ngrok');
    const answer = retries.at(-1) as Answer;
    const [made] = await streams();

    expectProblem(lost, 504, 'upstream-timeout');
    expect(atLoss).toHaveLength(0);
    expect(retries.length).toBeGreaterThan(1);
    for (const waited of retries.slice(0, -1)) {
      expectProblem(waited, 409, 'idempotency-key-in-flight');
    }
    expect(answer.status).toBe(201);
    expect(answer.json.id).toBe(made?.id);
    expect(await streams()).toHaveLength(1);
    expect((await ngrokCalls()).filter((call) => call.startsWith('POST'))).toHaveLength(1);
    expect(audits().at(-1)).toMatchObject({ outcome: 'recovered', stream_id: made?.id });
  });

  it('when the lost attempt made nothing, the retry creates it: one stream', async () => {
    // The connection closes after the request was sent and before ngrok acted on it.
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'before' });
    const lost = await create(body(), { key: 'never-made' });
    const retries = await createUntilAnswered(body(), 'never-made');
    const answer = retries.at(-1) as Answer;

    expect(lost.status).toBe(502);
    expect(answer.status).toBe(201);
    expect(await streams()).toEqual([expect.objectContaining({ id: answer.json.id })]);
    expect(audits().at(-1)).toMatchObject({ outcome: 'success', stream_id: answer.json.id });
  });

  it('does not take a matching stream made before the lost attempt began', async () => {
    const earlier = await create(body());
    await new Promise((resolve) => setTimeout(resolve, 3100));
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'before' });
    await create(body(), { key: 'not-that-one' });
    const answer = (await createUntilAnswered(body(), 'not-that-one')).at(-1) as Answer;

    expect(answer.status).toBe(201);
    expect(answer.json.id).not.toBe(earlier.json.id);
    expect(await streams()).toHaveLength(2);
  });

  it('recovers after a function that died mid-create (its key still in progress, its deadline past)', async () => {
    const dynamodb = new DynamoDBClient({});
    const began = Date.now() - 60_000;
    // What a function that died right after ngrok created the stream leaves behind.
    const { json: made } = await create(body());
    await dynamodb.send(
      new PutItemCommand({
        TableName: TABLE,
        Item: {
          id: { S: JSON.stringify(['POST /event-streams', 'ci', 'died']) },
          state: { S: 'in_progress' },
          attempt: { S: 'dead' },
          fingerprint: { S: fingerprintOf(body()) },
          started_at: { N: String(began) },
          in_flight_until: { N: String(Date.now() - 1) },
          expires_at: { N: String(Math.floor(began / 1000) + 86_400) },
        },
      }),
    );
    const answer = await create(body(), { key: 'died' });

    expect(answer.status).toBe(201);
    expect(answer.json.id).toBe(made.id);
    expect(await streams()).toHaveLength(1);
  });

  it('treats a 5xx from ngrok as a create that may have been made: the retry waits, looks, then creates once', async () => {
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', status: 503 });
    const failed = await create(body(), { key: 'ngrok-5xx' });
    const retries = await createUntilAnswered(body(), 'ngrok-5xx');

    expectProblem(failed, 502, 'upstream-error');
    expectProblem(retries[0] as Answer, 409, 'idempotency-key-in-flight');
    expect(retries.at(-1)?.status).toBe(201);
    expect(await streams()).toHaveLength(1);
  });

  it('treats a success answer that could not be read as a create that may have been made', async () => {
    await injectFault(ctx.url, {
      method: 'POST',
      path: '/event_streams',
      status: 201,
      body: 'oops',
    });
    const mark = serviceLogs.mark();
    const failed = await create(body(), { key: 'unreadable' });
    const lost = serviceLogs.since(mark).find((line) => line.audit === true);
    const retries = await createUntilAnswered(body(), 'unreadable');

    expectProblem(failed, 502, 'upstream-error');
    expectProblem(retries[0] as Answer, 409, 'idempotency-key-in-flight');
    expect(retries.at(-1)?.status).toBe(201);
    expect(await streams()).toHaveLength(1);
    expect(lost).toMatchObject({ action: 'event_stream.create', outcome: 'unknown' });
  });

  it('releases the key when ngrok certainly made nothing (it refused the request): the retry runs at once', async () => {
    await injectFault(ctx.url, {
      method: 'POST',
      path: '/event_streams',
      status: 429,
      // Beyond the deadline: the client does not wait for it.
      retry_after: 30,
    });
    const refused = await create(body(), { key: 'refused' });
    const retry = await create(body(), { key: 'refused' });

    expectProblem(refused, 429, 'rate-limited');
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await streams()).toHaveLength(1);
  });

  it("does not take a twin another key made moments before: a lost create's retry answers with its own stream", async () => {
    const twin = await create(body(), { key: 'twin-1' });
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'after' });
    await create(body(), { key: 'twin-2' });
    const answer = (await createUntilAnswered(body(), 'twin-2')).at(-1) as Answer;
    const all = await streams();

    expect(all).toHaveLength(2);
    expect(answer.status).toBe(201);
    expect(answer.json.id).not.toBe(twin.json.id);
    expect(all.map((stream) => stream.id)).toContain(answer.json.id);
  });

  it('does not take the stream another key made after the loss: the retry creates its own', async () => {
    // The lost create made nothing; another caller's key makes the same stream meanwhile.
    await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'before' });
    await create(body(), { key: 'lost-nothing' });
    const other = await create(body(), { key: 'other-key' });
    const answer = (await createUntilAnswered(body(), 'lost-nothing')).at(-1) as Answer;

    expect(answer.status).toBe(201);
    expect(answer.json.id).not.toBe(other.json.id);
    expect(await streams()).toHaveLength(2);
  });

  it('does not make a request wait for itself when the answer of its own claim was lost and the SDK retried it', async () => {
    await create(body({ description: 'warm the secret' }));
    // The next AWS request is the key's claim (PutItem): written, then its answer dropped.
    await injectFault(ctx.url, { method: 'POST', path: '/', drop: 'after' });
    const answer = await create(body(), { key: 'own-claim' });

    expect(answer.status).toBe(201);
    expect(answer.headers['idempotent-replayed']).toBeUndefined();
    expect((await create(body(), { key: 'own-claim' })).headers['idempotent-replayed']).toBe(
      'true',
    );
    expect(await streams()).toHaveLength(2);
  });
});

describe('Idempotency-Key: its store failing', () => {
  it('answers 503 and creates nothing when the key cannot be checked', async () => {
    // DynamoDB answers ResourceNotFoundException (a table that is not there).
    process.env.IDEMPOTENCY_KEYS_TABLE = 'no-such-table';
    const answer = await create(body(), { key: 'store-down' });

    expectProblem(answer, 503, 'idempotency-unavailable');
    expect(answer.headers['retry-after']).toBe('1');
    expect(await ngrokCalls()).toEqual([]);
    expect(await streams()).toEqual([]);
  });
});
