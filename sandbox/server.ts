/**
 * The sandbox: one local HTTP server that emulates the ngrok API (Event Streams and Event
 * Destinations) and its AWS stand-ins (Secrets Manager's GetSecretValue, DynamoDB's item
 * operations, Query and Scan, Lambda's Invoke, EventBridge Scheduler with a clock that fires
 * one-time schedules), with a control surface for tests under `/_sandbox/`. Written from docs/ngrok-api.md; it imports nothing from `lib/` or `functions/`,
 * so a misreading of the wire in the client cannot hide here too. Dev and test only.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, badRequest, errorBody } from './api-error.ts';
import { DynamoStore, tableNameErrors } from './dynamodb.ts';
import { type Fault, FaultList, parseFault } from './faults.ts';
import { newId } from './ids.ts';
import { handleApiRequest, NgrokState } from './ngrok-api.ts';
import { DEFAULT_RATE_LIMIT, type RateLimitConfig, RateLimiter } from './rate-limit.ts';
import { isSchedulerPath, type SchedulerOptions, SchedulerStore } from './scheduler.ts';
import { SecretsStore } from './secrets-manager.ts';
import { type AwsCredentials, verifySigV4 } from './sigv4.ts';

const MIB = 1024 * 1024;
const CONTROL_PREFIX = '/_sandbox';
/** The control surface's bodies are small JSON documents. */
const MAX_CONTROL_BODY_BYTES = MIB;
/** Lambda's Invoke payload limits (API_Invoke: 6 MB synchronous, 1 MB asynchronous). */
const MAX_INVOKE_BYTES = 6 * MIB;
const MAX_EVENT_INVOKE_BYTES = MIB;
/** The content type of each AWS stand-in's answers, errors included. */
const AWS_CONTENT_TYPES = {
  dynamodb: 'application/x-amz-json-1.0',
  secretsmanager: 'application/x-amz-json-1.1',
  lambda: 'application/json',
  scheduler: 'application/json',
} as const;

/** The service name each AWS stand-in's requests must be signed for (the credential scope's). */
const SIGNING_NAMES = {
  dynamodb: 'dynamodb',
  secretsmanager: 'secretsmanager',
  lambda: 'lambda',
  scheduler: 'scheduler',
} as const;

/**
 * The AWS services the sandbox stands in for, by the variable that points the AWS SDKs (and the
 * AWS CLI from 2.13) at an endpoint: each is served at the sandbox's URL.
 */
export const AWS_ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_LAMBDA',
  'AWS_ENDPOINT_URL_SCHEDULER',
] as const;

export interface SandboxOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1: the sandbox is never meant to be reachable from elsewhere. */
  host?: string;
  /** API keys the emulated ngrok API accepts. Default: one random key. */
  apiKeys?: string[];
  /** Default 120 requests per 60 s per key; `false` turns the limit off. */
  rateLimit?: RateLimitConfig | false;
  /** Secrets Manager secrets, by name. */
  secrets?: Record<string, string>;
  /** DynamoDB tables, by name: their key attribute names (partition key first). */
  tables?: Record<string, string[]>;
  /**
   * EventBridge Scheduler: where its clock invokes the Lambda targets of due one-time schedules
   * (`lambdaUrl`: serverless offline's Lambda endpoint; without it they are recorded as fired,
   * not invoked), how often it looks (`tickMs`, default 1000; false: only
   * `sandbox.scheduler.tick(now)`), the retries' backoff, and the schedule groups that exist
   * besides `default`.
   */
  scheduler?: SchedulerOptions;
  /**
   * The only AWS credentials its AWS stand-ins accept (SigV4). Default: a random pair, in
   * `sandbox.awsCredentials`, for the functions' environment.
   */
  awsCredentials?: AwsCredentials;
  /**
   * Accept `beforeId` for `before_id`: the official TypeScript SDK (0.3.0 to 0.17.0) pages with
   * it (docs/ngrok-api.md §3). Off by default: the API refuses unknown query parameters.
   */
  acceptBeforeIdCamelCase?: boolean;
  /** Called with one line per request (no credentials in it). */
  log?: (line: string) => void;
}

export interface RequestLogEntry {
  api: 'ngrok' | 'secretsmanager' | 'dynamodb' | 'lambda' | 'scheduler';
  method: string;
  path: string;
  query: string;
  /** Which TCP connection carried it, numbered from 1: shows keep-alive reuse. */
  connection: number;
  /** The request body as sent (ngrok API requests only). */
  body: string;
  /** The status answered, or null when the connection was dropped. */
  status: number | null;
}

export interface Sandbox {
  /** `http://127.0.0.1:<port>`: the ngrok API base URL and the Secrets Manager endpoint. */
  url: string;
  /** The first accepted API key. */
  apiKey: string;
  state: NgrokState;
  secrets: SecretsStore;
  dynamodb: DynamoStore;
  /** EventBridge Scheduler's schedules, its clock (`tick(now)`) and what it fired. */
  scheduler: SchedulerStore;
  /** What AWS SDK clients pointed at the sandbox must sign with. */
  awsCredentials: AwsCredentials;
  faults: FaultList;
  requests: RequestLogEntry[];
  close(): Promise<void>;
}

interface Config {
  api_keys: string[];
  rate_limit: RateLimitConfig | false;
  accept_before_id_camel_case: boolean;
}

/** Event Destinations for a fresh sandbox, so that streams can be created at once. */
export function sampleDestinations(): Record<string, unknown>[] {
  const role = { role: { role_arn: 'arn:aws:iam::123456789012:role/ngrok-events' } };
  return [
    {
      description: 'sandbox kinesis destination',
      format: 'json',
      target: {
        kinesis: {
          auth: role,
          stream_arn: 'arn:aws:kinesis:us-east-1:123456789012:stream/ngrok-events',
        },
      },
    },
    {
      description: 'sandbox cloudwatch logs destination',
      format: 'json',
      target: {
        cloudwatch_logs: {
          auth: role,
          log_group_arn: 'arn:aws:logs:us-east-1:123456789012:log-group:ngrok-events',
        },
      },
    },
  ];
}

/**
 * Fixed ids for the samples `npm start` and `npm run sandbox` seed, so that the sample events in
 * events/ name things that exist. They sort before any id made now (KSUIDs of an older time).
 */
export const SAMPLE_DESTINATION_IDS = [
  'ed_2SandboxKinesisDestination0',
  'ed_2SandboxLogsDestination0000',
];
export const SAMPLE_EVENT_STREAM_ID = 'es_2SandboxSampleEventStream00';

/** Seeds the sample destinations and one sample stream on the first of them. */
export function seedSamples(state: NgrokState): {
  destinationIds: string[];
  eventStreamId: string;
} {
  const destinationIds = sampleDestinations().map(
    (destination, index) => state.createDestination(destination, SAMPLE_DESTINATION_IDS[index]).id,
  );
  const stream = state.createStream(
    {
      description: 'sample stream',
      event_type: 'http_request_complete',
      fields: ['http.request.method', 'http.response.status_code', 'conn.client_ip'],
      destination_ids: [destinationIds[0]],
      sampling_rate: 1,
    },
    SAMPLE_EVENT_STREAM_ID,
  );
  return { destinationIds, eventStreamId: stream.id };
}

/**
 * The largest request body each API takes, and how it refuses one larger, before anything else
 * (signature included) is looked at:
 * - ngrok: the sandbox's own cap (ngrok documents none), in ngrok's error shape;
 * - DynamoDB: 16 MB (its request limit, "Service, account, and table quotas in Amazon
 *   DynamoDB"), refused as DynamoDB's front end does: a bare 413, no body (dynalite's connection
 *   tests, which run against DynamoDB itself: a body of 16 MiB + 1 byte gets 413 with an empty
 *   chunked body, 16 MiB does not). An item over 400 KB in a smaller request is a
 *   ValidationException (sandbox/dynamodb.ts);
 * - Secrets Manager: the sandbox's own cap (AWS documents none; a secret holds at most 64 KB),
 *   refused like DynamoDB, by the same kind of AWS JSON front end;
 * - Scheduler: the sandbox's own cap (AWS documents none), refused the same way;
 * - Lambda's Invoke: 6 MB, as Lambda refuses it: 413 RequestEntityTooLargeException.
 */
function tooLargeAnswer(
  api: RequestLogEntry['api'],
  operationId: string,
): { limit: number; status: 413; body: unknown; headers: Record<string, string> } {
  switch (api) {
    case 'dynamodb':
      return { limit: 16 * MIB, status: 413, body: undefined, headers: {} };
    case 'secretsmanager':
    case 'scheduler':
      return { limit: MIB, status: 413, body: undefined, headers: {} };
    case 'lambda':
      return {
        limit: MAX_INVOKE_BYTES,
        status: 413,
        body: lambdaError(
          `Request must be smaller than ${MAX_INVOKE_BYTES} bytes for the InvokeFunction operation`,
        ),
        headers: { 'x-amzn-errortype': 'RequestEntityTooLargeException' },
      };
    default:
      return {
        limit: MIB,
        status: 413,
        body: errorBody(new ApiError(413, 'The request body is too large.'), operationId),
        headers: { 'ngrok-operation-id': operationId },
      };
  }
}

/** Lambda's error body (REST JSON): `Type` and `message`; the error's name is in a header. */
function lambdaError(message: string): { Type: string; message: string } {
  return { Type: 'User', message };
}

class BodyTooLarge extends Error {}

function faultError(status: number, fault: Fault): ApiError {
  const headers: Record<string, string> = {};
  if (fault.retry_after !== undefined) headers['retry-after'] = String(fault.retry_after);
  return new ApiError(status, `Injected fault: HTTP ${status}.`, fault.error_code, headers);
}

/**
 * The request body, or BodyTooLarge past `limit` bytes — only once the body is read to its end
 * (the rest is discarded), so that the client, still sending, reads the answer instead of a
 * connection reset.
 */
async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  if (size > limit) throw new BodyTooLarge();
  return Buffer.concat(chunks).toString('utf8');
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json; charset=utf-8',
): void {
  if (response.destroyed) return;
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      ...headers,
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(text)),
    })
    .end(text);
}

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.replace(/:\d{1,5}$/, '').toLowerCase();
  return name === 'localhost' || name === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

function mediaType(header: string | undefined): string | undefined {
  return header?.split(';')[0]?.trim().toLowerCase();
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const state = new NgrokState();
  const secrets = new SecretsStore();
  const awsCredentials: AwsCredentials = options.awsCredentials ?? {
    accessKeyId: `AKIASANDBOX${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  const dynamodb = new DynamoStore();
  for (const [name, keys] of Object.entries(options.tables ?? {})) dynamodb.createTable(name, keys);
  const log = options.log ?? (() => {});
  const scheduler = new SchedulerStore({ log, ...options.scheduler });
  /** Asynchronous Lambda invocations received (Invoke with X-Amz-Invocation-Type: Event). */
  const invocations: { function: string; invocation_type: string; payload: unknown }[] = [];
  /** What was posted to the Slack response_url catcher, oldest first. */
  const slackResponses: { path: string; body: unknown; received_at: string }[] = [];
  const SLACK_POSTS_PER_URL = 5;
  const faults = new FaultList();
  const limiter = new RateLimiter();
  const requests: RequestLogEntry[] = [];
  const closing = new AbortController();
  const connectionIds = new WeakMap<object, number>();
  let connections = 0;
  const initialConfig: Config = {
    api_keys: options.apiKeys ?? [randomBytes(24).toString('base64url')],
    rate_limit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
    accept_before_id_camel_case: options.acceptBeforeIdCamelCase ?? false,
  };
  const config: Config = { ...initialConfig };
  for (const [name, value] of Object.entries(options.secrets ?? {})) secrets.put(name, value);

  /** The ngrok API: credentials, version, rate limit, content, then the operation. */
  function ngrokApi(request: IncomingMessage, url: URL, rawBody: string, origin: string) {
    const authorization = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
    const apiKey = authorization?.[1];
    if (apiKey === undefined) {
      throw new ApiError(
        401,
        'The API authentication header is missing or malformed. Send `Authorization: Bearer <API key>`.',
        'ERR_NGROK_201',
      );
    }
    if (!config.api_keys.includes(apiKey)) {
      throw new ApiError(401, 'The API key you specified is not valid.', 'ERR_NGROK_203');
    }
    const version = request.headers['ngrok-version'];
    if (version === undefined) {
      throw badRequest(
        218,
        'Your request has not specified an API version. Send the header `Ngrok-Version: 2`.',
      );
    }
    if (version !== '2') {
      throw badRequest(217, `API version '${version}' is not supported. The latest version is 2.`);
    }
    if (config.rate_limit !== false) {
      const retryAfter = limiter.admit(apiKey, config.rate_limit);
      if (retryAfter !== undefined) {
        throw new ApiError(
          429,
          `You have exceeded the API rate limit of ${config.rate_limit.limit} requests per ${config.rate_limit.window_seconds} seconds.`,
          'ERR_NGROK_226',
          { 'retry-after': String(retryAfter) },
        );
      }
    }
    const method = request.method ?? 'GET';
    let body: unknown;
    if (rawBody.length > 0) {
      if (method === 'GET' || method === 'DELETE') {
        throw badRequest(211, `A ${method} request does not take a body.`);
      }
      const type = mediaType(request.headers['content-type']);
      if (type === undefined) {
        throw badRequest(216, 'The request has a body but no Content-Type header.');
      }
      if (type !== 'application/json') {
        throw new ApiError(
          415,
          `The Content-Type '${type}' is not supported; send application/json.`,
          'ERR_NGROK_210',
        );
      }
      try {
        body = JSON.parse(rawBody);
      } catch {
        throw badRequest(213, 'The request body could not be parsed as JSON.');
      }
    }
    const beforeId = url.searchParams.get('beforeId');
    if (config.accept_before_id_camel_case && beforeId !== null) {
      url.searchParams.delete('beforeId');
      url.searchParams.set('before_id', beforeId);
    }
    return handleApiRequest(state, {
      method,
      path: url.pathname,
      query: url.searchParams,
      body,
      origin,
    });
  }

  async function serveApi(request: IncomingMessage, response: ServerResponse, url: URL) {
    const method = request.method ?? 'GET';
    const amzTarget = request.headers['x-amz-target'];
    const isAws = typeof amzTarget === 'string' && method === 'POST' && url.pathname === '/';
    const lambdaFunction = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(
      url.pathname,
    )?.[1];
    // Scheduler is REST JSON: its operations are told apart by method and path, not X-Amz-Target
    // (the ngrok API has no such paths).
    const api: RequestLogEntry['api'] = lambdaFunction
      ? 'lambda'
      : isAws && String(amzTarget).startsWith('DynamoDB_20120810.')
        ? 'dynamodb'
        : isAws
          ? 'secretsmanager'
          : isSchedulerPath(url.pathname)
            ? 'scheduler'
            : 'ngrok';
    const entry: RequestLogEntry = {
      api,
      method,
      path: url.pathname,
      query: url.search,
      connection: connectionIds.get(request.socket) ?? 0,
      body: '',
      status: null,
    };
    requests.push(entry);
    const finish = (status: number | null) => {
      entry.status = status;
      log(`${method} ${url.pathname}${url.search} ${status ?? 'dropped'}`);
    };

    let rawBody = '';
    const operationId = newId('op');
    const tooLarge = tooLargeAnswer(entry.api, operationId);
    try {
      rawBody = await readBody(request, tooLarge.limit);
      if (entry.api === 'ngrok') entry.body = rawBody;
    } catch (error) {
      if (!(error instanceof BodyTooLarge)) throw error;
      finish(tooLarge.status);
      send(
        response,
        tooLarge.status,
        tooLarge.body,
        tooLarge.headers,
        entry.api === 'ngrok' ? undefined : AWS_CONTENT_TYPES[entry.api],
      );
      return;
    }

    if (entry.api !== 'ngrok') {
      const verdict = verifySigV4(
        {
          method,
          rawPath: (request.url ?? '/').split('?')[0] ?? '/',
          rawQuery: (request.url ?? '').split('?')[1] ?? '',
          headers: request.headers,
          body: rawBody,
        },
        awsCredentials,
      );
      // Signed for another service: AWS refuses it as a signature of the wrong scope.
      const refusal = !verdict.ok
        ? verdict
        : entry.api === 'scheduler' && verdict.service !== SIGNING_NAMES.scheduler
          ? {
              status: 403,
              type: 'InvalidSignatureException',
              message: `Credential should be scoped to correct service: '${SIGNING_NAMES.scheduler}'.`,
            }
          : undefined;
      if (refusal) {
        finish(refusal.status);
        send(
          response,
          refusal.status,
          entry.api === 'scheduler'
            ? { Message: refusal.message }
            : { __type: refusal.type, message: refusal.message },
          { 'x-amzn-errortype': refusal.type },
          AWS_CONTENT_TYPES[entry.api],
        );
        return;
      }
    }

    const fault = faults.take(method, url.pathname);
    // The request is still acted on after the delay even if its caller gave up, as a real
    // server would; only closing the sandbox cuts the wait short.
    if (fault?.delay_ms) {
      const waited = await sleep(fault.delay_ms, true, { signal: closing.signal }).catch(
        () => false,
      );
      if (!waited) return;
    }
    if (fault?.drop === 'before') {
      finish(null);
      request.socket.destroy();
      return;
    }

    let status: number;
    let body: unknown;
    let headers: Record<string, string> = {};
    let contentType: string | undefined;
    if (entry.api !== 'ngrok' && fault?.status !== undefined) {
      // An AWS service's own error shape: `__type` (the fault's error_code, e.g.
      // ThrottlingException) and x-amzn-ErrorType.
      const type =
        fault.error_code ?? (fault.status >= 500 ? 'InternalFailure' : 'ValidationException');
      status = fault.status;
      const message = `Injected fault: HTTP ${fault.status}.`;
      // REST JSON (Scheduler): the name in the header only, `Message` in the body.
      body = entry.api === 'scheduler' ? { Message: message } : { __type: type, message };
      headers = { 'x-amzn-errortype': type };
      contentType = AWS_CONTENT_TYPES[entry.api];
    } else if (entry.api === 'secretsmanager') {
      const answer = secrets.handle(String(amzTarget), request.headers, rawBody);
      ({ status, body, headers } = answer);
      contentType = answer.headers['content-type'];
    } else if (entry.api === 'dynamodb') {
      const answer = dynamodb.handle(String(amzTarget), rawBody);
      ({ status, body, headers } = answer);
      contentType = answer.headers['content-type'];
    } else if (entry.api === 'scheduler') {
      const region =
        /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(String(request.headers.authorization))?.[1] ??
        'us-east-1';
      const answer = scheduler.handle({
        method,
        path: url.pathname
          .split('/')
          .map((segment) => {
            try {
              return decodeURIComponent(segment);
            } catch {
              return segment;
            }
          })
          .join('/'),
        query: url.searchParams,
        region,
        body: rawBody,
      });
      ({ status, body, headers } = answer);
      contentType = answer.headers['content-type'];
    } else if (entry.api === 'lambda') {
      // Lambda's Invoke: an asynchronous one is queued (202); the sandbox runs no function, it
      // records the event for the test to deliver (GET /_sandbox/lambda/invocations).
      const type = String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      const bytes = Buffer.byteLength(rawBody);
      if (type === 'Event' && bytes > MAX_EVENT_INVOKE_BYTES) {
        finish(413);
        send(
          response,
          413,
          lambdaError(
            `${bytes} byte payload is too large for the Event invocation type (limit ${MAX_EVENT_INVOKE_BYTES} bytes)`,
          ),
          { 'x-amzn-errortype': 'RequestEntityTooLargeException' },
          AWS_CONTENT_TYPES.lambda,
        );
        return;
      }
      let payload: unknown = rawBody;
      try {
        payload = JSON.parse(rawBody);
      } catch {
        // Kept as sent.
      }
      invocations.push({
        function: decodeURIComponent(lambdaFunction ?? ''),
        invocation_type: type,
        payload,
      });
      status = type === 'Event' ? 202 : 200;
      body = type === 'Event' ? undefined : null;
      contentType = AWS_CONTENT_TYPES.lambda;
    } else {
      headers = { 'ngrok-operation-id': operationId };
      try {
        if (fault?.status !== undefined) throw faultError(fault.status, fault);
        ({ status, body } = ngrokApi(request, url, rawBody, `http://${request.headers.host}`));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        status = error.status;
        body = errorBody(error, operationId);
        headers = { ...headers, ...error.headers };
      }
    }

    if (fault?.body !== undefined) {
      finish(status);
      if (!response.destroyed) response.writeHead(status, headers).end(fault.body);
      return;
    }
    if (fault?.drop === 'after') {
      finish(null);
      request.socket.destroy();
      return;
    }
    finish(status);
    send(response, status, body, headers, contentType);
  }

  async function control(request: IncomingMessage, url: URL): Promise<[number, unknown]> {
    const method = request.method ?? 'GET';
    const route = `${method} ${url.pathname.slice(CONTROL_PREFIX.length) || '/'}`;
    const rawBody = await readBody(request, MAX_CONTROL_BODY_BYTES);
    const input: unknown = rawBody ? JSON.parse(rawBody) : {};
    const fields = (input ?? {}) as Record<string, unknown>;

    if (route === 'POST /reset') {
      Object.assign(config, initialConfig);
      state.reset();
      faults.clear();
      limiter.reset();
      requests.length = 0;
      dynamodb.clear();
      scheduler.reset();
      invocations.length = 0;
      slackResponses.length = 0;
      // What `npm start` and `npm run sandbox` seed at start, again (`npm run sandbox:reset`).
      if (fields.samples === true) {
        const { destinationIds, eventStreamId } = seedSamples(state);
        return [
          200,
          {
            reset: true,
            samples: { event_destinations: destinationIds, event_stream: eventStreamId },
          },
        ];
      }
      return [200, { reset: true }];
    }
    if (route === 'POST /seed') {
      const destinations = (fields.event_destinations ?? []) as unknown[];
      const streams = (fields.event_streams ?? []) as unknown[];
      return [
        201,
        {
          event_destinations: destinations.map((body) => state.createDestination(body).id),
          event_streams: streams.map((body) => state.createStream(body).id),
        },
      ];
    }
    if (route === 'GET /faults') return [200, { faults: faults.pending() }];
    if (route === 'POST /faults') {
      const fault = parseFault(input);
      faults.add(fault);
      return [201, fault];
    }
    if (route === 'DELETE /faults') {
      faults.clear();
      return [200, { faults: [] }];
    }
    if (route === 'GET /requests') return [200, { requests }];
    if (route === 'DELETE /requests') {
      requests.length = 0;
      return [200, { requests }];
    }
    // The API keys are not shown: the sandbox may be started with a real one (NGROK_API_KEY mode
    // keeps it in the local secret, which only signed AWS requests read).
    const shown = () => {
      const { api_keys, ...rest } = config;
      return { ...rest, api_key_count: api_keys.length };
    };
    if (route === 'GET /config') return [200, shown()];
    if (route === 'PATCH /config') {
      if (fields.api_keys !== undefined) {
        const keys = fields.api_keys;
        if (
          !Array.isArray(keys) ||
          keys.length === 0 ||
          keys.some((key) => typeof key !== 'string' || key === '')
        ) {
          throw new ApiError(400, `'api_keys' must be a non-empty list of strings.`);
        }
        config.api_keys = keys as string[];
      }
      if (fields.rate_limit !== undefined) {
        const limit = fields.rate_limit as RateLimitConfig | false;
        if (limit !== false && !(Number.isInteger(limit?.limit) && limit.window_seconds > 0)) {
          throw new ApiError(400, `'rate_limit' must be false or {limit, window_seconds}.`);
        }
        config.rate_limit = limit;
        limiter.reset();
      }
      if (fields.accept_before_id_camel_case !== undefined) {
        config.accept_before_id_camel_case = fields.accept_before_id_camel_case === true;
      }
      return [200, shown()];
    }
    if (route === 'GET /secrets') return [200, { names: secrets.names() }];
    const secretName = /^(PUT|DELETE) \/secrets\/(.+)$/.exec(route);
    if (secretName?.[1] === 'PUT') {
      if (typeof fields.secret_string !== 'string') {
        throw new ApiError(400, `Send {"secret_string": "..."}.`);
      }
      return [200, secrets.put(decodeURIComponent(secretName[2] ?? ''), fields.secret_string)];
    }
    if (secretName?.[1] === 'DELETE') {
      return [200, { deleted: secrets.delete(decodeURIComponent(secretName[2] ?? '')) }];
    }
    const slackPath = /^POST \/slack\/response\/(.+)$/.exec(route)?.[1];
    if (slackPath !== undefined) {
      // A fault on the catcher's path (a Slack that is down or slow) applies here too: the post
      // is recorded only when it is answered with success.
      const fault = faults.take('POST', url.pathname);
      if (fault?.delay_ms)
        await sleep(fault.delay_ms, undefined, { signal: closing.signal }).catch(() => {});
      if (fault?.status !== undefined && fault.status >= 300) {
        return [fault.status, { ok: false, error: 'fault' }];
      }
      // Slack's response_url: 200 "ok"; a URL takes at most 5 posts (then 404 used_url).
      if (slackResponses.filter((each) => each.path === slackPath).length >= SLACK_POSTS_PER_URL) {
        return [404, { ok: false, error: 'used_url' }];
      }
      slackResponses.push({ path: slackPath, body: input, received_at: new Date().toISOString() });
      return [200, { ok: true }];
    }
    if (route === 'GET /slack/responses') return [200, { responses: slackResponses }];
    if (route === 'DELETE /slack/responses') {
      slackResponses.length = 0;
      return [200, { responses: slackResponses }];
    }
    if (route === 'GET /lambda/invocations') return [200, { invocations }];
    if (route === 'DELETE /lambda/invocations') {
      invocations.length = 0;
      return [200, { invocations }];
    }
    if (route === 'GET /scheduler/schedules') return [200, { schedules: scheduler.view() }];
    if (route === 'GET /scheduler/fired') return [200, { fired: scheduler.fired }];
    if (route === 'DELETE /scheduler/fired') {
      scheduler.fired.length = 0;
      return [200, { fired: scheduler.fired }];
    }
    if (route === 'POST /scheduler/tick') {
      const at = fields.at === undefined ? Date.now() : Date.parse(String(fields.at));
      if (Number.isNaN(at)) throw new ApiError(400, `'at' must be an ISO 8601 instant.`);
      return [200, { fired: await scheduler.tick(at) }];
    }
    const table = /^(PUT|GET) \/dynamodb\/tables\/([^/]+)$/.exec(route);
    if (table?.[1] === 'PUT') {
      const keys = fields.keys;
      if (!Array.isArray(keys) || keys.length < 1 || keys.length > 2) {
        throw new ApiError(400, `Send {"keys": ["<partition key>"(, "<sort key>")]}.`);
      }
      const name = decodeURIComponent(table[2] ?? '');
      const nameErrors = tableNameErrors(name);
      if (nameErrors.length > 0) throw new ApiError(400, nameErrors.join('; '));
      dynamodb.createTable(name, keys as string[]);
      return [200, { table: table[2], keys }];
    }
    if (table?.[1] === 'GET') {
      return [200, { items: dynamodb.items(decodeURIComponent(table[2] ?? '')) }];
    }
    throw new ApiError(404, `No control route ${route}. See GET ${CONTROL_PREFIX}/ for the list.`);
  }

  const CONTROL_ROUTES = [
    'POST /_sandbox/reset {samples?: true} (state, faults, request log, rate limit windows, config as started, DynamoDB items, Scheduler schedules and firings; with samples, the sample destinations and stream seeded again)',
    'POST /_sandbox/seed {event_destinations?: [...], event_streams?: [...]}',
    'GET|POST|DELETE /_sandbox/faults {method, path, times, status?, retry_after?, error_code?, body?, delay_ms?, drop?: before|after}',
    'GET|DELETE /_sandbox/requests',
    'GET|PATCH /_sandbox/config {api_keys?, rate_limit?: false | {limit, window_seconds}, accept_before_id_camel_case?}',
    'GET /_sandbox/secrets, PUT /_sandbox/secrets/{name} {secret_string}, DELETE /_sandbox/secrets/{name}',
    'PUT /_sandbox/dynamodb/tables/{name} {keys: [partition key, sort key?]}, GET /_sandbox/dynamodb/tables/{name} (its items)',
    'GET|DELETE /_sandbox/lambda/invocations (Invoke requests received, oldest first)',
    'GET /_sandbox/scheduler/schedules (the schedules held: group, expression, time zone, state, target, next_fire_at)',
    'GET|DELETE /_sandbox/scheduler/fired (what the clock fired, oldest first: due_at, fired_at, function, input, attempts, outcome, deleted)',
    'POST /_sandbox/scheduler/tick {at?: ISO 8601} (fires what is due at that instant, default now, and makes the retries due; answers what fired)',
    'POST /_sandbox/slack/response/{any path} (a Slack response_url), GET|DELETE /_sandbox/slack/responses',
  ];

  const server = createServer(async (request, response) => {
    // A client that goes away mid-request ends only its own request.
    request.on('error', () => {});
    response.on('error', () => {});
    if (!isLoopbackHost(request.headers.host)) {
      // DNS rebinding: a web page whose name points at 127.0.0.1 sends its own Host.
      send(response, 403, {
        error: 'The sandbox answers only requests addressed to a loopback host.',
      });
      return;
    }
    try {
      const url = new URL(request.url ?? '/', 'http://sandbox');
      if (url.pathname === CONTROL_PREFIX || url.pathname.startsWith(`${CONTROL_PREFIX}/`)) {
        if (url.pathname.replace(/\/$/, '') === CONTROL_PREFIX) {
          send(response, 200, { routes: CONTROL_ROUTES });
          return;
        }
        const [status, body] = await control(request, url);
        send(response, status, body);
        return;
      }
      await serveApi(request, response, url);
    } catch (error) {
      const status =
        error instanceof ApiError
          ? error.status
          : error instanceof SyntaxError ||
              (error as NodeJS.ErrnoException).code === 'ERR_INVALID_URL'
            ? 400
            : error instanceof BodyTooLarge
              ? 413
              : 500;
      try {
        send(response, status, { error: error instanceof Error ? error.message : String(error) });
      } catch {
        response.destroy();
      }
    }
  });
  // What Node's HTTP parser refuses gets the answer Node gives; the server goes on.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\n\r\n`,
    );
  });

  server.on('connection', (socket) => connectionIds.set(socket, ++connections));
  // Idle keep-alive connections stay open longer than clients keep them (undici: 4 s), so a
  // client never reuses a socket the server is closing at that moment.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  scheduler.start();

  return {
    url: `http://${host}:${port}`,
    apiKey: config.api_keys[0] ?? '',
    state,
    secrets,
    dynamodb,
    scheduler,
    awsCredentials,
    faults,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        scheduler.close();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
