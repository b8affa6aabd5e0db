/** What `npm start` and `npm run invoke` share: how the functions are wired to the sandbox locally. */
import { createServer } from 'node:net';

/** The name of the service's secret in the local sandbox. */
export const LOCAL_SECRET_NAME = 'ngrok-event-streams-local';

/** The bearer token the sample events in events/ carry: `DEV_API_TOKEN=<this> npm start`. */
export const SAMPLE_EVENT_TOKEN = 'nes_sample-event-token';

/**
 * The environment that points the real AWS SDK at the sandbox's Secrets Manager, with dummy
 * credentials (serverless-offline hands AWS_* variables to the functions).
 */
export function localAwsEnv(sandboxUrl: string): NodeJS.ProcessEnv {
  return {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sandboxUrl,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SESSION_TOKEN: '',
    AWS_PROFILE: '',
    AWS_REGION: 'us-east-1',
  };
}

/** The `--param` arguments that point serverless.yml at the local secret and ngrok API. */
export function localParams(ngrokApiUrl: string, secretCacheSeconds: string): string[] {
  return [
    '--param',
    `secretName=${LOCAL_SECRET_NAME}`,
    '--param',
    `ngrokApiUrl=${ngrokApiUrl}`,
    '--param',
    `secretCacheSeconds=${secretCacheSeconds}`,
  ];
}

export function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(`${name} must be a port number from 1 to 65535; got '${raw}'.`);
    process.exit(2);
  }
  return port;
}

/** A port nobody listens on now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
