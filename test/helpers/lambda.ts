/**
 * API Gateway HTTP API (payload 2.0) events and Lambda contexts for in-process handler tests,
 * and the service's secret and environment pointed at a sandbox.
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { newCallerToken, sha256Hex } from '../../lib/auth/tokens.ts';
import { parseJsonOrUndefined } from './json.ts';
import { registerSecret } from './logs.ts';
import { control } from './sandbox.ts';

export interface ApiEventOptions {
  method: string;
  /** The route key's path, e.g. `/event-streams/{id}`. */
  route: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  isBase64Encoded?: boolean;
  token?: string;
}

export function apiEvent(options: ApiEventOptions): APIGatewayProxyEventV2 {
  const rawPath = options.route.replace(
    /\{(\w+)\}/g,
    (_, name) => options.pathParameters?.[name] ?? '',
  );
  const headers: Record<string, string> = {
    host: 'api.example.test',
    'x-forwarded-proto': 'https',
    ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    ...(options.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
    ...options.headers,
  };
  return {
    version: '2.0',
    routeKey: `${options.method} ${options.route}`,
    rawPath,
    rawQueryString: new URLSearchParams(options.query).toString(),
    headers,
    queryStringParameters: options.query,
    pathParameters: options.pathParameters,
    body:
      options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    isBase64Encoded: options.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method: options.method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'test',
      },
      requestId: 'request-id',
      routeKey: `${options.method} ${options.route}`,
      stage: '$default',
      time: '26/Nov/2026:12:00:00 +0000',
      timeEpoch: Date.now(),
    },
  };
}

export function lambdaContext(remainingMs = 10_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test',
    memoryLimitInMB: '256',
    awsRequestId: 'aws-request-id',
    logGroupName: '/aws/lambda/test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export interface Answer {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, read field by field in assertions
  json: any;
  body: string | undefined;
}

export async function invoke(
  handler: unknown,
  event: APIGatewayProxyEventV2,
  context = lambdaContext(),
): Promise<Answer> {
  const result = await (handler as Handler)(event, context);
  const body = result.body;
  const json = parseJsonOrUndefined(body);
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
    ),
    json,
    body,
  };
}

export const SECRET_NAME = 'ngrok-event-streams';
/** The sampling overrides' table, and where their schedules go, as serverless.yml sets them. */
export const OVERRIDES_TABLE = 'ngrok-event-streams-test-sampling-overrides';
export const SCHEDULE_GROUP = 'ngrok-event-streams-test-sampling';
export const OVERRIDE_ENV = {
  OVERRIDES_TABLE,
  SAMPLING_SCHEDULE_GROUP: SCHEDULE_GROUP,
  SAMPLING_FUNCTION: 'ngrok-event-streams-test-applySamplingSchedule',
  SAMPLING_SCHEDULER_ROLE: 'ngrok-event-streams-test-sampling-scheduler',
  SAMPLING_DEAD_LETTER_QUEUE: 'ngrok-event-streams-test-sampling-failed',
};

export interface ServiceTokens {
  write: string;
  read: string;
  /** A caller with the `alerts` scope alone: the alert webhooks'. */
  alerts?: string;
}

/** Stores the service's secret in the sandbox: the ngrok key, a read-write and a read-only caller. */
export async function storeServiceSecret(
  sandboxUrl: string,
  ngrokApiKey: string,
  tokens: ServiceTokens,
  more: Record<string, unknown> = {},
) {
  const secret = {
    ngrok_api_key: ngrokApiKey,
    callers: [
      { name: 'ci', token_sha256: sha256Hex(tokens.write), scopes: ['read', 'write'] },
      { name: 'dashboard', token_sha256: sha256Hex(tokens.read), scopes: ['read'] },
      ...(tokens.alerts
        ? [{ name: 'alertmanager', token_sha256: sha256Hex(tokens.alerts), scopes: ['alerts'] }]
        : []),
    ],
    ...more,
  };
  await control(sandboxUrl, 'PUT', `/secrets/${SECRET_NAME}`, {
    secret_string: JSON.stringify(secret),
  });
}

/** New caller tokens, the service's secret in the sandbox, and the environment pointed at it. */
export async function configureService(
  sandboxUrl: string,
  ngrokApiKey: string,
  awsCredentials: { accessKeyId: string; secretAccessKey: string },
): Promise<ServiceTokens> {
  const tokens = { write: newCallerToken(), read: newCallerToken(), alerts: newCallerToken() };
  registerSecret(tokens.write, tokens.read, tokens.alerts, ngrokApiKey);
  await storeServiceSecret(sandboxUrl, ngrokApiKey, tokens);
  await control(sandboxUrl, 'PUT', `/dynamodb/tables/${OVERRIDES_TABLE}`, {
    keys: ['stream_id', 'key'],
  });
  Object.assign(process.env, {
    ...OVERRIDE_ENV,
    SECRET_ID: SECRET_NAME,
    NGROK_API_URL: sandboxUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sandboxUrl,
    AWS_ENDPOINT_URL_DYNAMODB: sandboxUrl,
    AWS_ENDPOINT_URL_SCHEDULER: sandboxUrl,
    AWS_ACCESS_KEY_ID: awsCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: awsCredentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
  return tokens;
}
