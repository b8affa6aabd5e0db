/**
 * The real AWS SDK Secrets Manager client, pointed at the sandbox with
 * AWS_ENDPOINT_URL_SECRETS_MANAGER (as the functions are, locally), reads the secrets it holds.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { control, requestLog, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
const ENV_KEYS = [
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION',
] as const;
const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));

beforeEach(() => {
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = ctx.url;
  process.env.AWS_ACCESS_KEY_ID = ctx.sandbox.awsCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = ctx.sandbox.awsCredentials.secretAccessKey;
  process.env.AWS_REGION = 'eu-west-1';
});
afterEach(() => {
  for (const key of ENV_KEYS) {
    if (savedEnv[key] === undefined) delete process.env[key];
    else process.env[key] = savedEnv[key];
  }
});

const secretJson = JSON.stringify({ ngrok_api_key: 'key-1' });

describe('Sandbox: Secrets Manager GetSecretValue', () => {
  it('serves a secret by name to the real SDK client, over the endpoint from the environment', async () => {
    await control(ctx.url, 'PUT', '/secrets/ngrok-event-streams', { secret_string: secretJson });

    const answer = await new SecretsManagerClient({}).send(
      new GetSecretValueCommand({ SecretId: 'ngrok-event-streams' }),
    );
    const [logged] = await requestLog(ctx.url);

    expect(answer.SecretString).toBe(secretJson);
    expect(answer.Name).toBe('ngrok-event-streams');
    expect(answer.ARN).toMatch(
      /^arn:aws:secretsmanager:eu-west-1:\d{12}:secret:ngrok-event-streams-\w{6}$/,
    );
    expect(answer.VersionStages).toEqual(['AWSCURRENT']);
    expect(answer.CreatedDate).toBeInstanceOf(Date);
    expect(logged).toMatchObject({ api: 'secretsmanager', method: 'POST', path: '/', status: 200 });
  });

  it('serves it by full ARN and by partial ARN too', async () => {
    await control(ctx.url, 'PUT', '/secrets/svc', { secret_string: secretJson });
    const client = new SecretsManagerClient({});
    const { ARN } = await client.send(new GetSecretValueCommand({ SecretId: 'svc' }));
    const partialArn = ARN?.replace(/-\w{6}$/, '');

    const byArn = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    const byPartialArn = await client.send(new GetSecretValueCommand({ SecretId: partialArn }));

    expect(byArn.SecretString).toBe(secretJson);
    expect(byPartialArn.SecretString).toBe(secretJson);
  });

  it('answers an unknown secret with ResourceNotFoundException', async () => {
    const error = await new SecretsManagerClient({})
      .send(new GetSecretValueCommand({ SecretId: 'no-such-secret' }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as Error).message).toBe("Secrets Manager can't find the specified secret.");
  });

  it('serves the new value, with a new VersionId, after the secret is rotated', async () => {
    await control(ctx.url, 'PUT', '/secrets/svc', { secret_string: secretJson });
    const client = new SecretsManagerClient({});
    const before = await client.send(new GetSecretValueCommand({ SecretId: 'svc' }));

    await control(ctx.url, 'PUT', '/secrets/svc', { secret_string: '{"ngrok_api_key":"key-2"}' });
    const after = await client.send(new GetSecretValueCommand({ SecretId: 'svc' }));

    expect(after.SecretString).toBe('{"ngrok_api_key":"key-2"}');
    expect(after.VersionId).not.toBe(before.VersionId);
    expect(after.ARN).toBe(before.ARN);
  });

  it('answers a request over 1 MiB as an AWS front end does: a bare 413, not in ngrok’s shape', async () => {
    const error = await new SecretsManagerClient({})
      .send(new GetSecretValueCommand({ SecretId: 'x'.repeat(1024 * 1024) }))
      .catch((e: unknown) => e as { $metadata: { httpStatusCode?: number } });
    const raw = await fetch(ctx.url, {
      method: 'POST',
      headers: {
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: JSON.stringify({ SecretId: 'x'.repeat(1024 * 1024) }),
    });

    expect(error.$metadata.httpStatusCode).toBe(413);
    expect(raw.status).toBe(413);
    expect(await raw.text()).toBe('');
  });

  it('refuses a request that is not signed', async () => {
    const response = await fetch(ctx.url, {
      method: 'POST',
      headers: {
        'x-amz-target': 'secretsmanager.GetSecretValue',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: JSON.stringify({ SecretId: 'svc' }),
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
  });

  it('answers only requests signed with its own credentials (SigV4), and says why not', async () => {
    await control(ctx.url, 'PUT', '/secrets/ngrok-event-streams', { secret_string: secretJson });
    const read = (credentials: { accessKeyId: string; secretAccessKey: string }) =>
      new SecretsManagerClient({ credentials }).send(
        new GetSecretValueCommand({ SecretId: 'ngrok-event-streams' }),
      );

    await expect(
      read({ accessKeyId: ctx.sandbox.awsCredentials.accessKeyId, secretAccessKey: 'guessed' }),
    ).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(read({ accessKeyId: 'AKIAOTHER', secretAccessKey: 'x' })).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
    expect((await read(ctx.sandbox.awsCredentials)).SecretString).toBe(secretJson);
  });

  it('refuses a request whose body was changed after it was signed', async () => {
    await control(ctx.url, 'PUT', '/secrets/ngrok-event-streams', { secret_string: secretJson });
    const client = new SecretsManagerClient({ credentials: ctx.sandbox.awsCredentials });
    client.middlewareStack.addRelativeTo(
      ((next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
        const { request } = args as { request: { body: string | Uint8Array } };
        const body = request.body;
        const text =
          typeof body === 'string'
            ? body
            : new TextDecoder().decode(
                new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
              );
        request.body = text.replace('ngrok-event-streams', 'ngrok-event-streamz');
        return next(args);
      }) as never,
      { relation: 'after', toMiddleware: 'awsAuthMiddleware', name: 'tamper' },
    );

    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'ngrok-event-streams' })),
    ).rejects.toMatchObject({ name: 'InvalidSignatureException' });
  });

  it('refuses a Host that is not a loopback name (DNS rebinding), on every route', async () => {
    const { request } = await import('node:http');
    const statusFor = (path: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(ctx.url);
        const req = request(
          { hostname: url.hostname, port: url.port, path, headers: { host } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });

    expect(await statusFor('/_sandbox/config', 'evil.example')).toBe(403);
    expect(await statusFor('/event_streams', 'rebind.evil.example:4010')).toBe(403);
    expect(await statusFor('/_sandbox/config', `localhost:${new URL(ctx.url).port}`)).toBe(200);
  });

  it('does not show the ngrok API keys in its config', async () => {
    const config = await control<Record<string, unknown>>(ctx.url, 'GET', '/config');

    expect(config).not.toHaveProperty('api_keys');
    expect(config.api_key_count).toBe(1);
    expect(JSON.stringify(config)).not.toContain(ctx.apiKey);
  });
});
