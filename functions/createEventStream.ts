/**
 * POST /event-streams → 201, the new stream. Scope: write. Audited. With an `Idempotency-Key`,
 * a retry answers as the first request did, and a create whose answer was lost is found
 * rather than made twice.
 */
import { changeEventStream } from '../lib/http/change.ts';
import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { createdStreamId, recoverLostCreate } from '../lib/http/lost-create.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { withIdempotencyKey } from '../lib/idempotency/with-key.ts';
import { CreateEventStreamBody } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  { operation: 'createEventStream', scope: 'write', body: CreateEventStreamBody },
  withIdempotencyKey(
    { resourceOf: createdStreamId, recover: recoverLostCreate },
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
  ),
);
