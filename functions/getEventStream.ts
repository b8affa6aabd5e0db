/** GET /event-streams/{id} → 200, the stream. Scope: read. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { EventStream } from '../lib/ngrok/schemas.ts';
import { EventStreamPath } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  {
    method: 'GET',
    path: '/event-streams/{id}',
    operation: 'getEventStream',
    summary: 'Get an Event Stream',
    auth: { bearer: 'read' },
    params: EventStreamPath,
    answer: { status: 200, description: 'The stream.', schema: EventStream },
  },
  async ({ path }, event, context) => {
    const stream = await callNgrok(context, (ngrok, call) => ngrok.eventStreams.get(path.id, call));
    return json(200, presentEventStream(stream, apiBaseUrl(event)));
  },
);
