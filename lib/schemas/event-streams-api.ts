/**
 * The inputs of this service's Event Streams routes. Bodies are the ngrok API's own wire objects
 * (lib/ngrok/schemas.ts), with the seed's limits; this file adds only what the HTTP API itself
 * decides: the path id, the list query, and a PATCH that must change something.
 */
import * as z from 'zod/mini';
import { EventStreamCreate, EventStreamUpdate, eventStreamId } from '../ngrok/schemas.ts';
import { pageQuery } from './paging.ts';

export const EventStreamPath = z.object({ id: eventStreamId });
export type EventStreamPath = z.infer<typeof EventStreamPath>;

export const EventStreamListQuery = pageQuery(eventStreamId);
export type EventStreamListQuery = z.infer<typeof EventStreamListQuery>;

export const CreateEventStreamBody = EventStreamCreate;
export type CreateEventStreamBody = z.infer<typeof CreateEventStreamBody>;

const UPDATABLE = Object.keys(EventStreamUpdate.shape).join(', ');

export const UpdateEventStreamBody = z
  .strictObject({
    ...EventStreamUpdate.shape,
    event_type: z.optional(
      z
        .never({ error: 'cannot be changed after the stream is created' })
        .check(z.describe('Fixed once the stream is created: refused.')),
    ),
  })
  .check(
    z.refine((body) => Object.values(body).some((value) => value !== undefined), {
      error: `must change at least one of: ${UPDATABLE}`,
    }),
    z.meta({ description: `At least one of: ${UPDATABLE}.`, minProperties: 1 }),
  );
export type UpdateEventStreamBody = z.infer<typeof UpdateEventStreamBody>;
