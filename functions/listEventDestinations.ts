/** GET /event-destinations?before_id=&limit= → 200, one page, newest first. Scope: read. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { apiBaseUrl, presentEventDestinationList } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import {
  EventDestinationListAnswer,
  EventDestinationListQuery,
} from '../lib/schemas/event-destinations-api.ts';

export const handler = httpRoute(
  {
    method: 'GET',
    path: '/event-destinations',
    operation: 'listEventDestinations',
    summary: 'List Event Destinations (the ed_… ids a create needs): one page, newest first',
    auth: { bearer: 'read' },
    query: EventDestinationListQuery,
    answer: {
      status: 200,
      description: 'One page; follow `next_page_uri` (null on the last page).',
      schema: EventDestinationListAnswer,
    },
  },
  async ({ query }, event, context) => {
    const page = await callNgrok(context, (ngrok, call) =>
      ngrok.eventDestinations.list(query, call),
    );
    return json(200, presentEventDestinationList(page, apiBaseUrl(event), query.limit));
  },
);
