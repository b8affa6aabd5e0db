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
import { EventStream } from '../lib/ngrok/schemas.ts';
import { CreateEventStreamBody } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  {
    method: 'POST',
    path: '/event-streams',
    operation: 'createEventStream',
    summary: 'Create an Event Stream',
    auth: { bearer: 'write' },
    body: CreateEventStreamBody,
    idempotencyKey: true,
    answer: {
      status: 201,
      description:
        'The new stream; for a retry with the same `Idempotency-Key`, the first answer again (`Idempotent-Replayed: true`), or the stream a create whose answer was lost had made.',
      schema: EventStream,
    },
  },
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
