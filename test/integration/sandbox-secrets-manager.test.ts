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
  process.env.AWS_ACCESS_KEY_ID = 'sandbox';
  process.env.AWS_SECRET_ACCESS_KEY = 'sandbox';
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
});
