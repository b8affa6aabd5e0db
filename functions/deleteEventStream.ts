/** DELETE /event-streams/{id} → 204. Scope: write. Audited. */
import { changeEventStream } from '../lib/http/change.ts';
import { httpRoute, noContent } from '../lib/http/route.ts';
import { EventStreamPath } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  {
    method: 'DELETE',
    path: '/event-streams/{id}',
    operation: 'deleteEventStream',
    summary: 'Delete an Event Stream',
    auth: { bearer: 'write' },
    params: EventStreamPath,
    answer: { status: 204, description: 'Deleted; no body.' },
  },
  async ({ path }, _event, context) => {
    await changeEventStream(
      context,
      { action: 'event_stream.delete', streamId: path.id },
      async (ngrok, call) => ({ result: await ngrok.eventStreams.delete(path.id, call) }),
    );
    return noContent();
  },
);
