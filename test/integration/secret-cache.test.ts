/**
 * The service's secret per container: one GetSecretValue call however many invocations need it
 * at once, one per SECRET_CACHE_SECONDS after that, a fresh read after a refusal — through the
 * real SDK client and the sandbox's Secrets Manager.
 */
import { handler as getEventStream } from '../../functions/getEventStream.ts';
import {
  clearServiceSecretCache,
  loadServiceSecret,
  ServiceSecretError,
} from '../../lib/secrets/service-secret.ts';
import { apiEvent, configureService, invoke, type ServiceTokens } from '../helpers/lambda.ts';
import { control, injectFault, requestLog, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let tokens: ServiceTokens;

const secretReads = async () =>
  (await requestLog(ctx.url)).filter((entry) => entry.api === 'secretsmanager').length;

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
  process.env.SECRET_CACHE_SECONDS = '300';
  await control(ctx.url, 'DELETE', '/requests');
});

afterEach(() => {
  jest.restoreAllMocks();
  clearServiceSecretCache();
});

describe('The service secret, per container', () => {
  it('is read once for 100 concurrent first invocations, all of which succeed', async () => {
    const stream = await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
      event_streams: [
        {
          description: 'one',
          event_type: 'http_request_complete',
          destination_ids: [ctx.destinationIds[0]],
          sampling_rate: 1,
        },
      ],
    });
    const id = stream.event_streams[0] as string;

    const answers = await Promise.all(
      Array.from({ length: 100 }, () =>
        invoke(
          getEventStream,
          apiEvent({
            method: 'GET',
            route: '/event-streams/{id}',
            pathParameters: { id },
            token: tokens.read,
          }),
        ),
      ),
    );

    expect(answers.map((answer) => answer.status)).toEqual(Array(100).fill(200));
    expect(await secretReads()).toBe(1);
  });

  it('is read once per SECRET_CACHE_SECONDS, then again when it is stale', async () => {
    let now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);

    await loadServiceSecret();
    await loadServiceSecret();
    now += 299_000;
    await loadServiceSecret();
    expect(await secretReads()).toBe(1);

    now += 2_000;
    await Promise.all([loadServiceSecret(), loadServiceSecret()]);
    expect(await secretReads()).toBe(2);
  });

  it('is read again on refresh (a rotated key), and a refresh joins a read under way', async () => {
    await loadServiceSecret();
    await Promise.all([loadServiceSecret({ refresh: true }), loadServiceSecret({ refresh: true })]);

    expect(await secretReads()).toBe(2);
  });

  it('does not keep a failed read: the next invocation reads again', async () => {
    await injectFault(ctx.url, {
      path: '/',
      status: 500,
      error_code: 'InternalServiceError',
      times: 5,
    });

    await expect(loadServiceSecret()).rejects.toThrow(ServiceSecretError);
    await control(ctx.url, 'DELETE', '/faults');
    const secret = await loadServiceSecret();

    expect(secret.ngrok_api_key).toBe(ctx.apiKey);
  });

  it('lets a caller with little time left stop waiting, while the read goes on for the others', async () => {
    await injectFault(ctx.url, { path: '/', delay_ms: 600, times: 1 });

    const patient = loadServiceSecret();
    const hurried = loadServiceSecret({ timeoutMs: 100 });

    await expect(hurried).rejects.toThrow(/SecretReadTimeout/);
    expect((await patient).ngrok_api_key).toBe(ctx.apiKey);
    expect(await secretReads()).toBe(1);
  });
});
