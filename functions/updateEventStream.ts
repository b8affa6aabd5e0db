/**
 * PATCH /event-streams/{id} → 200, the updated stream; only the fields sent change. Scope: write.
 * Audited with each changed field's value before and after: the stream is read first.
 */
import { changeEventStream } from '../lib/http/change.ts';
import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { EventStream } from '../lib/ngrok/schemas.ts';
import { changedFields } from '../lib/observability/audit.ts';
import { EventStreamPath, UpdateEventStreamBody } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  {
    method: 'PATCH',
    path: '/event-streams/{id}',
    operation: 'updateEventStream',
    summary: 'Change an Event Stream: only the fields sent change',
    auth: { bearer: 'write' },
    params: EventStreamPath,
    body: UpdateEventStreamBody,
    answer: { status: 200, description: 'The updated stream.', schema: EventStream },
  },
  async ({ path, body }, event, context) => {
    const stream = await changeEventStream(
      context,
      { action: 'event_stream.update', streamId: path.id },
      async (ngrok, call) => {
        const before = await ngrok.eventStreams.get(path.id, call);
        const after = await ngrok.eventStreams.update(path.id, body, call);
        return { result: after, changes: changedFields(before, after, Object.keys(body)) };
      },
    );
    return json(200, presentEventStream(stream, apiBaseUrl(event)));
  },
);
