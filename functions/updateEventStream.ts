/** PATCH /event-streams/{id} → 200, the updated stream; only the fields sent change. Scope: write. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { EventStreamPath, UpdateEventStreamBody } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  { scope: 'write', path: EventStreamPath, body: UpdateEventStreamBody },
  async ({ path, body }, event, context) => {
    const stream = await callNgrok(context, (ngrok, call) =>
      ngrok.eventStreams.update(path.id, body, call),
    );
    return json(200, presentEventStream(stream, apiBaseUrl(event)));
  },
);
