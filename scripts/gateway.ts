/**
 * The local stack's API Gateway: an HTTP API (payload 2.0) stand-in in front of serverless
 * offline's Lambda endpoint, written from the API Gateway documentation ("Working with AWS
 * Lambda proxy integrations for HTTP APIs"). serverless offline runs the functions; its own
 * HTTP layer is not used, because it rewrites requests in ways API Gateway does not (it decodes a
 * JSON string body twice, adds a Content-Type where there was none, keeps the last of two
 * headers) and, under a burst, starts one worker per concurrent request until it runs out of
 * memory and answers 200 with a timeout's error. Here:
 * - routes are serverless.yml's httpApi events (scripts/routes.ts), as API Gateway's are; no
 *   route is 404 `{"message":"Not Found"}`;
 * - the event is API Gateway's: the body as sent (base64 unless its type is text), duplicate
 *   headers and query parameters joined with commas, cookies apart, path parameters decoded, a
 *   unique `requestContext.requestId` (also the `apigw-requestid` header);
 * - at most MAX_IN_FLIGHT invocations run at once, the rest wait in order; an answer that has
 *   not come within API Gateway's 30 s is 503 `{"message":"Service Unavailable"}`, a function
 *   error 500 `{"message":"Internal Server Error"}` — never a 2xx that carries an error;
 * - nothing a client sends ends the process: query and header names are data (`__proto__` and
 *   `constructor` too, handed to the function as ordinary names), a client that goes away
 *   mid-request ends only its request, what Node's parser refuses is answered as Node does (431
 *   to headers too large, 400 to bad framing) and no error of one request escapes its handler.
 */
import { randomBytes } from 'node:crypto';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { serverlessRoutes } from './routes.ts';

export const MAX_IN_FLIGHT = 4;
const INTEGRATION_TIMEOUT_MS = 30_000;
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
const TEXT_TYPES =
  /^(?:text\/[^;]+|application\/(?:[^;]+\+)?(?:json|xml)|application\/javascript)(?:\s*;.*)?$/i;

interface Route {
  method: string;
  template: string;
  segments: string[];
  functionName: string;
}

export interface GatewayOptions {
  port: number;
  host?: string;
  /** serverless offline's Lambda endpoint, e.g. http://127.0.0.1:3002. */
  lambdaUrl: string;
  /** `<service>-<stage>-`: what serverless offline names the functions. */
  functionPrefix: string;
  /** Where serverless.yml is (its httpApi events are the routes); default: the working folder. */
  serviceDir?: string;
}

/** API Gateway routes by serverless.yml's httpApi events: so does this stand-in. */
function routes(prefix: string, serviceDir: string): Route[] {
  return serverlessRoutes(serviceDir).map((route) => ({
    method: route.method,
    template: route.path,
    segments: route.path.split('/').slice(1),
    functionName: `${prefix}${route.function}`,
  }));
}

function match(all: Route[], method: string, rawPath: string) {
  const segments = rawPath.split('/').slice(1);
  for (const route of all) {
    if (route.method !== method || route.segments.length !== segments.length) continue;
    const parameters: Record<string, string> = {};
    let matched = true;
    for (const [index, part] of route.segments.entries()) {
      const given = segments[index] as string;
      const parameter = /^\{(\w+)\}$/.exec(part)?.[1];
      if (parameter !== undefined && given !== '') {
        try {
          parameters[parameter] = decodeURIComponent(given);
        } catch {
          parameters[parameter] = given;
        }
      } else if (part !== given) {
        matched = false;
        break;
      }
    }
    if (matched) return { route, parameters };
  }
  return undefined;
}

/** A request id shaped like API Gateway's (e.g. `JzKvXjNsoAMEbKQ=`). */
function requestId(): string {
  return randomBytes(10).toString('base64');
}

function apiGatewayTime(date: Date): string {
  const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${month}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

async function readBody(request: IncomingMessage): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_PAYLOAD_BYTES) return 'too large';
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function eventOf(
  request: IncomingMessage,
  route: Route,
  parameters: Record<string, string>,
  body: Buffer,
  id: string,
) {
  const url = request.url ?? '/';
  const [rawPath = '/', rawQueryString = ''] = url.split(/\?(.*)/s);
  // Names are the client's: kept in Maps, never as keys of a plain object, where `__proto__` or
  // `constructor` would find Object.prototype's. Object.fromEntries makes them own properties.
  const headerValues = new Map<string, string[]>();
  for (let index = 0; index + 1 < request.rawHeaders.length; index += 2) {
    const name = (request.rawHeaders[index] as string).toLowerCase();
    headerValues.set(name, [
      ...(headerValues.get(name) ?? []),
      request.rawHeaders[index + 1] as string,
    ]);
  }
  const cookies = headerValues
    .get('cookie')
    ?.flatMap((value) => value.split(/;\s*/))
    .filter(Boolean);
  headerValues.delete('cookie');
  const headers: Record<string, string> = Object.fromEntries(
    [...headerValues].map(([name, values]) => [name, values.join(',')]),
  );
  const query = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query.set(name, [...(query.get(name) ?? []), value]);
  }
  const header = (name: string) => headerValues.get(name)?.join(',');
  const contentType = header('content-type') ?? '';
  const isText = TEXT_TYPES.test(contentType);
  const now = new Date();
  const host = (header('host') ?? '127.0.0.1').split(':')[0] ?? '127.0.0.1';
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.template}`,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(query.size > 0
      ? {
          queryStringParameters: Object.fromEntries(
            [...query].map(([name, values]) => [name, values.join(',')]),
          ),
        }
      : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method: route.method,
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: header('user-agent') ?? '',
      },
      requestId: id,
      routeKey: `${route.method} ${route.template}`,
      stage: '$default',
      time: apiGatewayTime(now),
      timeEpoch: now.getTime(),
    },
    ...(Object.keys(parameters).length > 0 ? { pathParameters: parameters } : {}),
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

function reply(response: ServerResponse, id: string, status: number, message: string) {
  const body = JSON.stringify({ message });
  response
    .writeHead(status, { 'content-type': 'application/json', 'apigw-requestid': id })
    .end(body);
}

/** Writes a function's answer as API Gateway does (payload 2.0 response format). */
function answer(response: ServerResponse, id: string, result: unknown) {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in (result as object)
      ? (result as {
          statusCode: number;
          headers?: Record<string, string | number | boolean>;
          body?: string;
          isBase64Encoded?: boolean;
          cookies?: string[];
        })
      : undefined;
  if (!structured) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    response
      .writeHead(200, { 'content-type': 'application/json', 'apigw-requestid': id })
      .end(body);
    return;
  }
  const headers: Record<string, string | string[]> = { 'apigw-requestid': id };
  for (const [name, value] of Object.entries(structured.headers ?? {}))
    headers[name] = String(value);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body =
    structured.body === undefined
      ? ''
      : structured.isBase64Encoded
        ? Buffer.from(structured.body, 'base64')
        : structured.body;
  response.writeHead(structured.statusCode, headers).end(body);
}

export async function startGateway(options: GatewayOptions): Promise<Server> {
  const table = routes(options.functionPrefix, options.serviceDir ?? process.cwd());
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  /** A place among the invocations in flight, in order; given up if `signal` aborts first. */
  const acquire = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (inFlight < MAX_IN_FLIGHT) {
        inFlight++;
        resolve();
        return;
      }
      const turn = () => {
        inFlight++;
        resolve();
      };
      waiting.push(turn);
      signal.addEventListener(
        'abort',
        () => {
          const index = waiting.indexOf(turn);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  const release = () => {
    inFlight--;
    waiting.shift()?.();
  };

  /** Each connection's answer in progress: a refusal from the parser may not cut into it. */
  const answering = new WeakMap<Duplex, ServerResponse>();

  const handle = async (request: IncomingMessage, response: ServerResponse, id: string) => {
    const body = await readBody(request);
    if (body === 'too large') {
      reply(response, id, 413, 'Request Entity Too Large');
      return;
    }
    const rawPath = (request.url ?? '/').split('?')[0] ?? '/';
    const found = match(table, request.method ?? 'GET', rawPath);
    if (!found) {
      reply(response, id, 404, 'Not Found');
      return;
    }
    const event = eventOf(request, found.route, found.parameters, body, id);
    const deadline = AbortSignal.timeout(INTEGRATION_TIMEOUT_MS);
    let slot = false;
    try {
      await acquire(deadline);
      slot = true;
      const invoked = await fetch(
        `${options.lambdaUrl}/2015-03-31/functions/${encodeURIComponent(found.route.functionName)}/invocations`,
        { method: 'POST', body: JSON.stringify(event), signal: deadline },
      );
      const text = await invoked.text();
      if (!invoked.ok || invoked.headers.get('x-amz-function-error')) {
        reply(response, id, 500, 'Internal Server Error');
        return;
      }
      answer(response, id, text === '' ? null : JSON.parse(text));
    } catch {
      if (deadline.aborted) reply(response, id, 503, 'Service Unavailable');
      else reply(response, id, 500, 'Internal Server Error');
    } finally {
      if (slot) release();
    }
  };

  const server = createServer((request, response) => {
    const id = requestId();
    answering.set(request.socket, response);
    response.once('close', () => {
      if (answering.get(request.socket) === response) answering.delete(request.socket);
    });
    // A client that goes away makes its request (and maybe the answer) emit errors: this
    // request ends there, nothing else does.
    request.on('error', () => {});
    response.on('error', () => {});
    handle(request, response, id).catch(() => {
      try {
        if (request.destroyed && !request.complete) response.destroy();
        else if (!response.headersSent) reply(response, id, 500, 'Internal Server Error');
        else response.destroy();
      } catch {
        response.destroy();
      }
    });
  });
  // What Node's parser refuses (bad framing, bogus methods, invalid bytes, headers too large)
  // and connections that fail: answered as Node itself would, when nothing else is being
  // answered on the connection, then closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (socket.writable && !answering.get(socket)?.headersSent) {
      const status =
        error.code === 'HPE_HEADER_OVERFLOW'
          ? 431
          : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? 408
            : 400;
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
    }
    socket.destroy();
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  });
  return server;
}
