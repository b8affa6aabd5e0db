import { handler as createEventStream } from '../functions/createEventStream.ts';
import { parseIdempotencyKey } from '../lib/idempotency/key.ts';
import { EventStreamsClient } from '../lib/ngrok/client.ts';
import { NgrokInvalidResponseError } from '../lib/ngrok/errors.ts';
import { clearServiceSecretCache } from '../lib/secrets/service-secret.ts';
import { apiEvent, configureService, invoke, lambdaContext, type ServiceTokens } from './helpers/lambda.ts';
import { control, injectFault, requestLog, useSandbox } from './helpers/sandbox.ts';

const ctx = useSandbox();
const TABLE = 'zz-review-keys';
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
const create = (payload: unknown, key?: string, remainingMs = 10_000) =>
  invoke(
    createEventStream,
    apiEvent({ method: 'POST', route: '/event-streams', body: payload, token: tokens.write,
      headers: key === undefined ? {} : { 'Idempotency-Key': key } }),
    lambdaContext(remainingMs),
  );
async function streams() {
  const r = await fetch(`${ctx.url}/event_streams`, { headers: { authorization: `Bearer ${ctx.apiKey}`, 'ngrok-version': '2' } });
  return ((await r.json()) as { event_streams: { id: string }[] }).event_streams;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('P1 two keys joined by API Gateway are accepted as one key', () => {
  expect(parseIdempotencyKey('k1,k2')).toBe('k1,k2');
  expect(parseIdempotencyKey('"k1","k2"')).toBe('"k1","k2"');
});

it('P2 an SDK retry of the claim (answer dropped after write) makes the first request 409', async () => {
  await create(body()); // warm the secret cache
  await control(ctx.url, 'DELETE', '/requests');
  await injectFault(ctx.url, { method: 'POST', path: '/', drop: 'after' });
  const first = await create(body(), 'p2');
  const log = (await requestLog(ctx.url)).map((e) => `${e.api} ${e.method} ${e.path} ${e.status}`);
  console.log('P2 first', first.status, JSON.stringify(first.json), log);
  const again = await create(body(), 'p2');
  console.log('P2 again', again.status, again.headers['retry-after']);
});

it('P3 ngrok made the stream but its answer was unreadable: the key is released and the retry creates a second one', async () => {
  const original = EventStreamsClient.prototype.create;
  const spy = jest.spyOn(EventStreamsClient.prototype, 'create').mockImplementationOnce(async function (this: EventStreamsClient, ...args) {
    await original.apply(this, args);
    throw new NgrokInvalidResponseError('event_streams.create', 201, 'an unexpected body');
  });
  const first = await create(body(), 'p3');
  spy.mockRestore();
  const retry = await create(body(), 'p3');
  console.log('P3', first.status, retry.status, retry.headers['idempotent-replayed'], (await streams()).length);
});

it('P4 recovery has no upper time bound: a lost create that made nothing takes another key\'s stream', async () => {
  await create(body()); // warm
  await injectFault(ctx.url, { method: 'POST', path: '/event_streams', drop: 'before' });
  const lost = await create(body(), 'k-lost');
  const other = await create(body(), 'k-other');
  await sleep(1200);
  const retry = await create(body(), 'k-lost');
  console.log('P4', lost.status, other.status, other.json.id, retry.status, retry.json.id, (await streams()).length);
});
