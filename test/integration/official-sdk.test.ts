/**
 * The last official TypeScript SDK with Event Streams (@ngrok/ngrok-api 0.3.0), pointed at the
 * sandbox's URL, creates, pages through, updates and deletes streams and reads its errors as it
 * would against api.ngrok.com. Its one paging quirk (`beforeId` on the wire, docs/ngrok-api.md
 * §3) needs the sandbox's compat switch.
 */
import { Ngrok } from '@ngrok/ngrok-api';
import { control, requestLog, seedStreams, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();

function sdk() {
  return new Ngrok({ apiToken: ctx.apiKey, baseUrl: ctx.url });
}

describe('Official SDK @ngrok/ngrok-api 0.3.0 against the sandbox', () => {
  it('creates, gets and updates a stream (the SDK sends id in the PATCH body)', async () => {
    const ngrok = sdk();

    const created = await ngrok.eventStreams.create({
      metadata: '{"environment": "staging"}',
      description: 'low sampling, basic HTTP logs',
      fields: ['http.request.method', 'http.response.status_code', 'conn.client_ip'],
      eventType: 'http_request_complete',
      destinationIds: [ctx.destinationIds[0] as string],
      samplingRate: 0.1,
    });
    const got = await ngrok.eventStreams.get({ id: created.id });
    const updated = await ngrok.eventStreams.update({
      id: created.id,
      description: 'now 50 %',
      samplingRate: 0.5,
    });

    expect(created.id).toMatch(/^es_[0-9A-Za-z]{27}$/);
    expect(created.eventType).toBe('http_request_complete');
    expect(created.destinationIds).toEqual([ctx.destinationIds[0]]);
    expect(got).toEqual(created);
    expect(updated).toEqual({ ...created, description: 'now 50 %', samplingRate: 0.5 });
  });

  it('creates a stream with samplingRate 0, which means "not given": it samples 100 %', async () => {
    // 0.3.0 makes every create field required; 0 is what a caller with no rate in mind passes.
    const created = await sdk().eventStreams.create({
      metadata: '',
      description: '',
      fields: [],
      eventType: 'http_request_complete',
      destinationIds: [ctx.destinationIds[0] as string],
      samplingRate: 0,
    });
    const [sent] = await requestLog(ctx.url);

    expect(JSON.parse(sent?.body ?? '{}')).toMatchObject({ sampling_rate: 0 });
    expect(created.samplingRate).toBe(1);
  });

  it('lists every stream across three pages with the compat switch on', async () => {
    await control(ctx.url, 'PATCH', '/config', { accept_before_id_camel_case: true });
    const ids = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 250);

    const all = await sdk().eventStreams.list();
    const pages = (await requestLog(ctx.url)).filter((entry) => entry.path === '/event_streams');

    expect(all.map((stream) => stream.id)).toEqual([...ids].reverse());
    expect(pages).toHaveLength(3);
  });

  it('deletes a stream: the sandbox answers 204 with no body (the SDK then fails to parse it, its own bug)', async () => {
    const [id] = await seedStreams(ctx.url, ctx.destinationIds[0] as string, 1);

    const outcome = await sdk()
      .eventStreams.delete({ id: id as string })
      .then(
        () => 'resolved',
        (error: unknown) => error,
      );
    const [deleted] = await requestLog(ctx.url);

    expect(deleted).toMatchObject({ method: 'DELETE', status: 204 });
    expect(ctx.sandbox.state.streams.has(id as string)).toBe(false);
    // 0.3.0 calls .json() on the empty 204 body; later SDK versions read it with .res().
    expect(outcome).toBeInstanceOf(SyntaxError);
  });

  it('reads ngrok errors: statusCode, errorCode, msg and details.operationId', async () => {
    const notFound = await sdk()
      .eventStreams.get({ id: 'es_000000000000000000000000000' })
      .catch((e: unknown) => e);
    const invalid = await sdk()
      .eventStreams.create({
        metadata: '',
        description: '',
        fields: [],
        eventType: 'http_request_complete',
        destinationIds: [ctx.destinationIds[0] as string],
        samplingRate: 1.5,
      })
      .catch((e: unknown) => e);

    expect(notFound).toMatchObject({ statusCode: 404, msg: 'Resource not found' });
    expect((notFound as { details: Map<string, string> }).details.get('operationId')).toMatch(
      /^op_/,
    );
    expect(invalid).toMatchObject({ statusCode: 400, errorCode: 'ERR_NGROK_215' });
  });

  it('lists and gets Event Destinations', async () => {
    const ngrok = sdk();

    const all = await ngrok.eventDestinations.list();
    const one = await ngrok.eventDestinations.get({ id: ctx.destinationIds[0] as string });

    expect(all.map((destination) => destination.id)).toEqual([...ctx.destinationIds].reverse());
    expect(one.target.kinesis?.streamArn).toMatch(/^arn:aws:kinesis:/);
  });
});
