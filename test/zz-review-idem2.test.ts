import { handler as createEventStream } from '../functions/createEventStream.ts';
import * as store from '../lib/idempotency/store.ts';
import { clearServiceSecretCache } from '../lib/secrets/service-secret.ts';
import { apiEvent, configureService, invoke, lambdaContext, type ServiceTokens } from './helpers/lambda.ts';
import { control, injectFault, requestLog, useSandbox } from './helpers/sandbox.ts';

const ctx = useSandbox();
const TABLE = 'zz-review-keys2';
let tokens: ServiceTokens;
beforeAll(async () => {
  await control(ctx.url, 'PUT', `/dynamodb/tables/${TABLE}`, { keys: ['id'] });
});
beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  Object.assign(process.env, {
    IDEMPOTENCY_KEYS_TABLE: TABLE,
    IDEMPOTENCY_SETTLE_SECONDS: '1',
    AWS_ENDPOINT_URL_DYNAMODB: ctx.url,
  });
});
const body = (o: Record<string, unknown> = {}) => ({
  event_type: 'http_request_complete',
  destination_ids: [ctx.destinationIds[0]],
  description: 'probe',
  ...o,
});
const create = (payload: unknown, key?: string, token?: string) =>
  invoke(
    createEventStream,
    apiEvent({ method: 'POST', route: '/event-streams', body: payload, token: token ?? tokens.write,
      headers: key === undefined ? {} : { 'Idempotency-Key': key } }),
    lambdaContext(10_000),
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('S1 a late attempt cannot write after a take-over', async () => {
  const now = Date.now();
  const rec = { id: 's1', fingerprint: 'f', state: 'in_progress' as const, attempt: 'A', startedAt: now, inFlightUntil: now - 1, expiresAt: Math.floor(now / 1000) + 100 };
  expect(await store.claim(rec, now)).toEqual({ claimed: true });
  const c2 = await store.claim({ ...rec, attempt: 'X' }, now);
  console.log('S1 claim2', JSON.stringify(c2));
  expect(await store.takeOver(rec, 'B', now + 1000)).toBe(true);
  expect(await store.takeOver(rec, 'C', now + 1000)).toBe(false);
  expect(await store.complete('s1', 'A', { statusCode: 201, headers: {}, body: 'x' })).toBe(false);
  expect(await store.markUnknown('s1', 'A', 0)).toBe(false);
  expect(await store.release('s1', 'A')).toBe(false);
  expect((await store.readRecord('s1', Date.now()))?.attempt).toBe('B');
});

it('S2 recovery adopts a stream someone else made with the same body after the lost attempt', async () => {
  await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'before' });
  const lost = await create(body(), 'k-lost');
  const other = await create(body(), 'k-other');
  await sleep(1200);
  const retry = await create(body(), 'k-lost');
  console.log('S2', lost.status, other.status, other.json.id, retry.status, retry.json.id);
});

it('S3 three retries at once after the settle: one recovers, others 409', async () => {
  await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'after' });
  await create(body(), 'k3');
  await sleep(1200);
  await control(ctx.url, 'DELETE', '/requests');
  const answers = await Promise.all([create(body(), 'k3'), create(body(), 'k3'), create(body(), 'k3')]);
  console.log('S3', answers.map((a) => `${a.status} ${a.json.id ?? a.json.type}`));
  const calls = (await requestLog(ctx.url)).filter((e) => e.api === 'ngrok').map((e) => `${e.method} ${e.path}`);
  console.log('S3 ngrok', calls);
});
