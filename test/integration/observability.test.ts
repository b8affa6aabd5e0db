/**
 * What an operator sees: one request line per request, an audit line per change, metrics in
 * CloudWatch's embedded format, and the request id that ties them to the caller's answer.
 * The handlers run in-process against the sandbox; their log lines are read from the capture of
 * test/helpers/logs.ts.
 */

import { handler as createEventStream } from '../../functions/createEventStream.ts';
import { handler as deleteEventStream } from '../../functions/deleteEventStream.ts';
import { handler as getEventStream } from '../../functions/getEventStream.ts';
import { handler as updateEventStream } from '../../functions/updateEventStream.ts';
import { clearServiceSecretCache } from '../../lib/secrets/service-secret.ts';
import { apiEvent, configureService, invoke, type ServiceTokens } from '../helpers/lambda.ts';
import { serviceLogs } from '../helpers/logs.ts';
import { control, injectFault, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let tokens: ServiceTokens;
const savedEnv = { ...process.env };

beforeEach(async () => {
  clearServiceSecretCache();
  tokens = await configureService(ctx.url, ctx.apiKey, ctx.sandbox.awsCredentials);
});
afterAll(() => {
  process.env = savedEnv;
});

type Line = Record<string, unknown>;

/** Runs `action` and returns what the service logged meanwhile, by kind of line. */
async function logged<T>(action: () => Promise<T>) {
  const mark = serviceLogs.mark();
  const result = await action();
  const lines = serviceLogs.since(mark);
  return {
    result,
    requests: lines.filter((line) => line.message === 'request'),
    audits: lines.filter((line) => line.audit === true),
    emf: lines.filter((line) => '_aws' in line),
    all: lines,
  };
}

function withRequestId(event: ReturnType<typeof apiEvent>, requestId: string) {
  event.requestContext.requestId = requestId;
  return event;
}

async function newStream(overrides: Record<string, unknown> = {}) {
  const [id] = (
    await control<{ event_streams: string[] }>(ctx.url, 'POST', '/seed', {
      event_streams: [
        {
          description: 'before',
          event_type: 'http_request_complete',
          destination_ids: [ctx.destinationIds[0]],
          sampling_rate: 1,
          ...overrides,
        },
      ],
    })
  ).event_streams;
  return id as string;
}

function get(id: string, requestId = 'req-get') {
  return invoke(
    getEventStream,
    withRequestId(
      apiEvent({
        method: 'GET',
        route: '/event-streams/{id}',
        pathParameters: { id },
        token: tokens.read,
      }),
      requestId,
    ),
  );
}

function update(id: string, body: unknown, requestId = 'req-update') {
  return invoke(
    updateEventStream,
    withRequestId(
      apiEvent({
        method: 'PATCH',
        route: '/event-streams/{id}',
        pathParameters: { id },
        body,
        token: tokens.write,
      }),
      requestId,
    ),
  );
}

describe('The request line', () => {
  it('is one line per successful request, with the route, caller, stream and ngrok call', async () => {
    const id = await newStream();

    const { result: answer, requests, all } = await logged(() => get(id, 'req-ok-1'));

    expect(answer.status).toBe(200);
    expect(answer.headers['x-request-id']).toBe('req-ok-1');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      level: 'INFO',
      service: 'ngrok-event-streams',
      correlation_id: 'req-ok-1',
      route: 'GET /event-streams/{id}',
      caller: 'dashboard',
      status: 200,
      stream_id: id,
      function_name: 'test',
      function_request_id: 'aws-request-id',
      cold_start: expect.any(Boolean),
      timestamp: expect.any(String),
      duration_ms: expect.any(Number),
      ngrok_calls: [
        {
          operation: 'event_streams.get',
          status: 200,
          attempts: 1,
          operation_id: expect.stringMatching(/^op_/),
          duration_ms: expect.any(Number),
        },
      ],
    });
    // Powertools' own `sampling_rate` (its debug sampling) would read as the stream's.
    expect(requests[0]).not.toHaveProperty('sampling_rate');
    // Nothing else but the request line and the metrics.
    expect(all.filter((line) => !('_aws' in line))).toHaveLength(1);
  });

  it("reports the retries of an ngrok call, and ngrok's last status", async () => {
    const id = await newStream();
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', status: 503, times: 1 });

    const { requests } = await logged(() => get(id));

    expect(requests[0]?.ngrok_calls).toEqual([
      expect.objectContaining({ operation: 'event_streams.get', status: 200, attempts: 2 }),
    ]);
  });

  it('is written for a refused request too, with the problem kind, and no caller', async () => {
    const { result: answer, requests } = await logged(() =>
      invoke(
        getEventStream,
        withRequestId(
          apiEvent({
            method: 'GET',
            route: '/event-streams/{id}',
            pathParameters: { id: 'es_1' },
          }),
          'req-401',
        ),
      ),
    );

    expect(answer.status).toBe(401);
    expect(answer.headers['x-request-id']).toBe('req-401');
    expect(answer.json.instance).toBe('req-401');
    expect(requests).toEqual([
      expect.objectContaining({ status: 401, kind: 'unauthorized', correlation_id: 'req-401' }),
    ]);
    expect(requests[0]).not.toHaveProperty('caller');
  });

  it('carries the request id as instance of every problem, and at ERROR level for a 5xx', async () => {
    const id = await newStream();
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', status: 500, times: 4 });

    const { result: answer, requests } = await logged(() => get(id, 'req-502'));

    expect(answer.status).toBe(502);
    expect(answer.json.instance).toBe('req-502');
    expect(answer.headers['x-request-id']).toBe('req-502');
    expect(requests[0]).toMatchObject({
      level: 'ERROR',
      status: 502,
      kind: 'upstream-error',
      error: expect.objectContaining({ name: 'NgrokApiError' }),
      ngrok_calls: [expect.objectContaining({ status: 500, attempts: 4, error: 'NgrokApiError' })],
    });
  });
});

describe('The audit line', () => {
  it('records an update with the before and after of each field that changed, and no other', async () => {
    const id = await newStream({ description: 'before', sampling_rate: 1 });

    const {
      result: answer,
      audits,
      requests,
    } = await logged(() => update(id, { sampling_rate: 0.25, description: 'before' }, 'req-upd'));

    expect(answer.status).toBe(200);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      audit: true,
      correlation_id: 'req-upd',
      actor: { kind: 'http', name: 'ci' },
      action: 'event_stream.update',
      stream_id: id,
      outcome: 'success',
      changes: { sampling_rate: { before: 1, after: 0.25 } },
    });
    expect(Object.keys(audits[0]?.changes as Line)).toEqual(['sampling_rate']);
    // The stream is read first (the "before"), then changed: two ngrok calls on the one line.
    expect(((requests[0]?.ngrok_calls ?? []) as Line[]).map((call) => call.operation)).toEqual([
      'event_streams.get',
      'event_streams.update',
    ]);
  });

  it('records a create with the new stream id, and a delete', async () => {
    const created = await logged(() =>
      invoke(
        createEventStream,
        apiEvent({
          method: 'POST',
          route: '/event-streams',
          body: { event_type: 'tcp_connection_closed', destination_ids: [ctx.destinationIds[0]] },
          token: tokens.write,
        }),
      ),
    );
    const id = created.result.json.id as string;
    const deleted = await logged(() =>
      invoke(
        deleteEventStream,
        apiEvent({
          method: 'DELETE',
          route: '/event-streams/{id}',
          pathParameters: { id },
          token: tokens.write,
        }),
      ),
    );

    expect(created.audits).toEqual([
      expect.objectContaining({ action: 'event_stream.create', stream_id: id, outcome: 'success' }),
    ]);
    expect(created.requests[0]?.stream_id).toBe(id);
    expect(deleted.audits).toEqual([
      expect.objectContaining({ action: 'event_stream.delete', stream_id: id, outcome: 'success' }),
    ]);
  });

  it('records a change ngrok refused as a failure, with its status and code', async () => {
    const id = await newStream();

    const { result: answer, audits } = await logged(() =>
      update(id, { destination_ids: ['ed_doesNotExist0'] }),
    );

    expect(answer.status).toBe(400);
    expect(audits).toEqual([
      expect.objectContaining({
        action: 'event_stream.update',
        stream_id: id,
        outcome: 'failure',
        error: {
          name: 'NgrokApiError',
          operation: 'event_streams.update',
          status: 400,
          error_code: 'ERR_NGROK_5103',
        },
      }),
    ]);
  });

  it('records an update of a missing stream as a failure of the read', async () => {
    const { result: answer, audits } = await logged(() =>
      update('es_missing0', { sampling_rate: 0.5 }),
    );

    expect(answer.status).toBe(404);
    expect(audits[0]).toMatchObject({
      outcome: 'failure',
      error: { name: 'NgrokApiError', operation: 'event_streams.get', status: 404 },
    });
  });

  it('records a change whose answer was lost as unknown: it may have been made', async () => {
    const id = await newStream();
    await injectFault(ctx.url, {
      method: 'PATCH',
      path: '/event_streams/*',
      drop: 'after',
      times: 4,
    });

    const { result: answer, audits } = await logged(() => update(id, { sampling_rate: 0.5 }));

    expect(answer.status).toBe(502);
    expect(audits[0]).toMatchObject({
      outcome: 'unknown',
      error: { name: 'NgrokNetworkError', operation: 'event_streams.update' },
    });
  });

  it('is not written for a request refused before any change was tried', async () => {
    const id = await newStream();

    const { audits, requests } = await logged(() => update(id, { sampling_rate: 7 }));

    expect(requests[0]).toMatchObject({ status: 400, kind: 'validation-failed' });
    expect(audits).toEqual([]);
  });
});

describe('Metrics', () => {
  it('writes per operation a count, latency, upstream errors and retries, in EMF', async () => {
    const id = await newStream();
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', status: 503, times: 1 });

    const { emf } = await logged(() => get(id));

    const request = emf.find((line) => 'Requests' in line) as Line;
    expect(request).toMatchObject({
      service: 'ngrok-event-streams',
      operation: 'getEventStream',
      Requests: 1,
      Latency: expect.any(Number),
      UpstreamErrors: 0,
      UpstreamRetries: 1,
    });
    const [directive] = (request._aws as { CloudWatchMetrics: Line[] }).CloudWatchMetrics;
    expect(directive).toMatchObject({
      Namespace: 'NgrokEventStreams',
      Dimensions: [expect.arrayContaining(['service', 'operation'])],
    });
    expect(((directive?.Metrics ?? []) as Line[]).map((metric) => metric.Name).sort()).toEqual([
      'Latency',
      'Requests',
      'UpstreamErrors',
      'UpstreamRetries',
    ]);
  });

  it('counts an upstream failure, not a missing stream, as an upstream error', async () => {
    await injectFault(ctx.url, { method: 'GET', path: '/event_streams/*', status: 500, times: 4 });
    const failed = await logged(() => get('es_whatever0'));
    const missing = await logged(() => get('es_whatever0'));

    expect(failed.emf.find((line) => 'Requests' in line)).toMatchObject({ UpstreamErrors: 1 });
    expect(missing.emf.find((line) => 'Requests' in line)).toMatchObject({ UpstreamErrors: 0 });
  });
});

describe('Cold starts', () => {
  it('are counted once per container, on its first invocation', () => {
    const coldStarts = serviceLogs.records().filter((line) => 'ColdStart' in line);

    expect(coldStarts).toHaveLength(1);
    expect(coldStarts[0]).toMatchObject({ ColdStart: 1, operation: expect.any(String) });
  });
});
