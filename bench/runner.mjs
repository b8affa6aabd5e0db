/**
 * One measured process of `npm run bench` (bench/run.ts starts it): loads one bundle and invokes
 * its handler as Lambda would, with events made here at the moment of each invocation (Slack
 * signatures and API Gateway's timeEpoch are fresh). Plain JavaScript, so that Node starts it
 * without type stripping: every subject pays the same start. Results go to file descriptor 3,
 * one JSON line each; what the functions log goes to stdout and is ignored.
 *
 *   BENCH_MODE=cold        import, one invocation (BENCH_SEQUENCE: several, in order), report, exit
 *   BENCH_MODE=concurrent  import, BENCH_CONCURRENCY invocations at once, report, exit
 *   BENCH_MODE=warm        import, one invocation, then on each stdin line {"n": K} K invocations
 *                          one after another, each timed; {"stop": true} reports peak RSS, exits
 */
import { createHmac, randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

const started = performance.now();
const fixture = JSON.parse(process.env.BENCH_FIXTURE ?? '{}');
const kind = process.env.BENCH_EVENT ?? 'getEventStream';
let deleteIndex = Number(process.env.BENCH_DELETE_OFFSET ?? 0);

function report(line) {
  writeSync(3, `${JSON.stringify(line)}\n`);
}

function apiEvent(
  method,
  route,
  { path = {}, body, headers = {}, query, token = fixture.token } = {},
) {
  const rawPath = route.replace(/\{(\w+)\}/g, (_, name) => path[name] ?? '');
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: `${method} ${route}`,
    rawPath,
    rawQueryString: query ? new URLSearchParams(query).toString() : '',
    headers: {
      host: 'api.example.test',
      'x-forwarded-proto': 'https',
      'user-agent': 'bench',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(query ? { queryStringParameters: query } : {}),
    ...(Object.keys(path).length > 0 ? { pathParameters: path } : {}),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'bench',
      domainName: 'api.example.test',
      domainPrefix: 'api',
      http: {
        method,
        path: rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'bench',
      },
      requestId,
      routeKey: `${method} ${route}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

function slackEvent(text) {
  const form = new URLSearchParams({
    token: 'deprecated',
    team_id: fixture.slack.team_id,
    team_domain: 'bench',
    channel_id: 'C0000BENCH',
    channel_name: 'bench',
    user_id: fixture.slack.user_id,
    user_name: 'bench',
    command: '/eventstreams',
    text,
    api_app_id: 'A0000BENCH',
    response_url: `${fixture.sandboxUrl}/_sandbox/slack/response/${randomUUID()}`,
    trigger_id: '1.2.3',
  }).toString();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = `v0=${createHmac('sha256', fixture.slack.signing_secret).update(`v0:${timestamp}:${form}`).digest('hex')}`;
  return apiEvent('POST', '/slack/commands', {
    body: form,
    token: undefined,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': signature,
    },
  });
}

/** The event each kind of invocation gets: a request that succeeds. */
const EVENTS = {
  createEventStream: () =>
    apiEvent('POST', '/event-streams', {
      body: {
        description: 'bench',
        event_type: 'http_request_complete',
        destination_ids: [fixture.destinationId],
        fields: ['http.request.method'],
        sampling_rate: 1,
      },
    }),
  listEventStreams: () => apiEvent('GET', '/event-streams', { query: { limit: '10' } }),
  getEventStream: () => apiEvent('GET', '/event-streams/{id}', { path: { id: fixture.streamId } }),
  updateEventStream: () =>
    apiEvent('PATCH', '/event-streams/{id}', {
      path: { id: fixture.streamId },
      body: { description: `bench ${randomUUID()}` },
    }),
  deleteEventStream: () =>
    apiEvent('DELETE', '/event-streams/{id}', {
      path: { id: fixture.deleteIds[deleteIndex++] },
    }),
  listEventDestinations: () => apiEvent('GET', '/event-destinations'),
  getOpenApi: () => apiEvent('GET', '/openapi.json'),
  getSamplingPlan: () => apiEvent('GET', '/sampling/plan'),
  applySampling: () => apiEvent('POST', '/sampling/apply', { body: {} }),
  setSamplingOverride: () =>
    apiEvent('PUT', '/event-streams/{id}/sampling-override', {
      path: { id: fixture.streamId },
      body: { sampling_rate: 1, duration: 'PT1H', reason: 'bench' },
    }),
  endSamplingOverride: () =>
    apiEvent('DELETE', '/event-streams/{id}/sampling-override', { path: { id: fixture.streamId } }),
  listSamplingOverrides: () => apiEvent('GET', '/sampling/overrides'),
  // The shipped policy's example incident: the same alert again (an extension) after the first.
  alertmanagerWebhook: () =>
    apiEvent('POST', '/hooks/alertmanager', {
      token: fixture.alertsToken,
      body: {
        receiver: 'bench',
        status: 'firing',
        version: '4',
        groupKey: '{}:{alertname="Bench"}',
        truncatedAlerts: 0,
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'Bench', service: 'checkout', severity: 'critical' },
            annotations: {},
            startsAt: '2030-01-07T09:00:00.123456789Z',
            endsAt: '0001-01-01T00:00:00Z',
            generatorURL: '',
            fingerprint: 'bench0000000000',
          },
        ],
      },
    }),
  pagerdutyWebhook: () => {
    const body = JSON.stringify({
      event: {
        id: randomUUID(),
        event_type: 'incident.triggered',
        resource_type: 'incident',
        data: { id: 'QBENCH', number: 1, service: { id: 'PABC123' } },
      },
    });
    const signature = `v1=${createHmac('sha256', fixture.pagerdutySecret).update(body).digest('hex')}`;
    return apiEvent('POST', '/hooks/pagerduty', {
      body,
      token: undefined,
      headers: { 'content-type': 'application/json', 'x-pagerduty-signature': signature },
    });
  },
  // The last boundary of the shipped schedule's first rule, as EventBridge Scheduler sent it.
  applySamplingSchedule: () => ({
    cause: 'boundary',
    rules: ['sandbox-example'],
    scheduled_time: fixture.scheduledTime,
    execution_id: randomUUID(),
  }),
  slackCommand: () => slackEvent(`get ${fixture.streamId}`),
  slackHelp: () => slackEvent('help'),
  slackWorker: () => ({
    request_id: randomUUID(),
    text: `get ${fixture.streamId}`,
    user_id: fixture.slack.user_id,
    team_id: fixture.slack.team_id,
    channel_id: 'C0000BENCH',
    response_url: `${fixture.sandboxUrl}/_sandbox/slack/response/${randomUUID()}`,
  }),
};

function context() {
  const deadline = Date.now() + 10_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'bench',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** What an invocation answered: an HTTP status, `ok` for a job that returned, or its error. */
async function invoke(handler, eventKind = kind) {
  if (EVENTS[eventKind] === undefined) {
    throw new Error(`bench/runner.mjs makes no event for ${eventKind}: add one to EVENTS`);
  }
  try {
    const result = await handler(EVENTS[eventKind](), context());
    return typeof result?.statusCode === 'number' ? result.statusCode : 'ok';
  } catch (error) {
    return `error: ${error?.name ?? error}`;
  }
}

const beforeImport = performance.now();
const { handler } = createRequire(import.meta.url)(process.env.BENCH_BUNDLE);
const importMs = performance.now() - beforeImport;
/** When the import ended on V8's profiler clock (µs): splits a CPU profile in two. */
const importEndMicros = Number(process.hrtime.bigint() / 1000n);
const mode = process.env.BENCH_MODE;

if (mode === 'cold') {
  const answers = [];
  for (const eventKind of (process.env.BENCH_SEQUENCE ?? kind).split(',')) {
    const status = await invoke(handler, eventKind);
    answers.push({ event: eventKind, status, at_ms: performance.now() });
  }
  report({ started_ms: started, import_ms: importMs, import_end_us: importEndMicros, answers });
  process.exit(0);
} else if (mode === 'concurrent') {
  const count = Number(process.env.BENCH_CONCURRENCY ?? 100);
  const statuses = await Promise.all(Array.from({ length: count }, () => invoke(handler)));
  report({ statuses });
  process.exit(0);
} else if (mode === 'warm') {
  const first = await invoke(handler);
  report({ ready: true, status: first, ready_us: Number(process.hrtime.bigint() / 1000n) });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    if (command.stop) {
      report({ max_rss_kib: process.resourceUsage().maxRSS });
      process.exit(0);
    }
    const durations = [];
    const statuses = {};
    for (let i = 0; i < command.n; i++) {
      const before = performance.now();
      const status = await invoke(handler);
      durations.push(performance.now() - before);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    report({ durations, statuses });
  }
} else {
  throw new Error(`BENCH_MODE must be cold, concurrent or warm; got ${mode}`);
}
