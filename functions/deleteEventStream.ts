/** DELETE /event-streams/{id} → 204. Scope: write. */
import { callNgrok } from '../lib/call-ngrok.ts';
import { httpRoute, noContent } from '../lib/http/route.ts';
import { EventStreamPath } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  { scope: 'write', path: EventStreamPath },
  async ({ path }, _event, context) => {
    await callNgrok(context, (ngrok, call) => ngrok.eventStreams.delete(path.id, call));
    return noContent();
  },
);
