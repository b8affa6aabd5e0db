/** POST /event-streams → 201, the new stream. Scope: write. Audited. */
import { changeEventStream } from '../lib/http/change.ts';
import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { CreateEventStreamBody } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  { operation: 'createEventStream', scope: 'write', body: CreateEventStreamBody },
  async ({ body }, event, context) => {
    const stream = await changeEventStream(
      context,
      { action: 'event_stream.create' },
      async (ngrok, call) => {
        const created = await ngrok.eventStreams.create(body, call);
        return { result: created, stream_id: created.id };
      },
    );
    return json(201, presentEventStream(stream, apiBaseUrl(event)));
  },
);
