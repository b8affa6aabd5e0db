/**
 * The inputs of this service's Event Streams routes. Bodies are the ngrok API's own wire objects
 * (lib/ngrok/schemas.ts), with the seed's limits; this file adds only what the HTTP API itself
 * decides: the path id, the list query, and a PATCH that must change something.
 */
import * as z from 'zod/mini';
import { EventStreamCreate, EventStreamUpdate, eventStreamId } from '../ngrok/schemas.ts';

export const EventStreamPath = z.object({ id: eventStreamId });
export type EventStreamPath = z.infer<typeof EventStreamPath>;

export const EventStreamListQuery = z.strictObject({
  before_id: z.optional(eventStreamId),
  limit: z.optional(
    z.pipe(
      z
        .string()
        .check(z.regex(/^(?:[1-9][0-9]?|100)$/, { error: 'must be a whole number from 1 to 100' })),
      z.transform(Number),
    ),
  ),
});
export type EventStreamListQuery = z.infer<typeof EventStreamListQuery>;

export const CreateEventStreamBody = EventStreamCreate;
export type CreateEventStreamBody = z.infer<typeof CreateEventStreamBody>;

const UPDATABLE = Object.keys(EventStreamUpdate.shape).join(', ');

export const UpdateEventStreamBody = z
  .strictObject({
    ...EventStreamUpdate.shape,
    event_type: z.optional(z.never({ error: 'cannot be changed after the stream is created' })),
  })
  .check(
    z.refine((body) => Object.values(body).some((value) => value !== undefined), {
      error: `must change at least one of: ${UPDATABLE}`,
    }),
  );
export type UpdateEventStreamBody = z.infer<typeof UpdateEventStreamBody>;
