/** POST /event-streams → 201, the new stream. Scope: write. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { CreateEventStreamBody } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  { scope: 'write', body: CreateEventStreamBody },
  async ({ body }, event, context) => {
    const stream = await callNgrok(context, (ngrok, call) => ngrok.eventStreams.create(body, call));
    return json(201, presentEventStream(stream, apiBaseUrl(event)));
  },
);
