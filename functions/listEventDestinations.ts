/** GET /event-destinations?before_id=&limit= → 200, one page, newest first. Scope: read. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { apiBaseUrl, presentEventDestinationList } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { EventDestinationListQuery } from '../lib/schemas/event-destinations-api.ts';

export const handler = httpRoute(
  { operation: 'listEventDestinations', scope: 'read', query: EventDestinationListQuery },
  async ({ query }, event, context) => {
    const page = await callNgrok(context, (ngrok, call) =>
      ngrok.eventDestinations.list(query, call),
    );
    return json(200, presentEventDestinationList(page, apiBaseUrl(event), query.limit));
  },
);
