/** GET /event-streams?before_id=&limit= → 200, one page, newest first. Scope: read. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { apiBaseUrl, presentEventStreamList } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { EventStreamList } from '../lib/ngrok/schemas.ts';
import { EventStreamListQuery } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  {
    method: 'GET',
    path: '/event-streams',
    operation: 'listEventStreams',
    summary: 'List Event Streams: one page, newest first',
    auth: { bearer: 'read' },
    query: EventStreamListQuery,
    answer: {
      status: 200,
      description: 'One page; follow `next_page_uri` (null on the last page).',
      schema: EventStreamList,
    },
  },
  async ({ query }, event, context) => {
    const page = await callNgrok(context, (ngrok, call) => ngrok.eventStreams.list(query, call));
    return json(200, presentEventStreamList(page, apiBaseUrl(event), query.limit));
  },
);
