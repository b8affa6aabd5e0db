/**
 * `GET /event-destinations`: one page of the account's Event Destinations, so that a caller can
 * find the `ed_…` ids a create needs. The answer is ngrok's, with links to this API, without a
 * per-item `uri` (this API has no route for one destination) and never with an AWS secret key.
 */
import * as z from 'zod/mini';
import { EventDestination, eventDestinationId } from '../ngrok/schemas.ts';
import { pageQuery } from './paging.ts';

export const EventDestinationListQuery = pageQuery(eventDestinationId);
export type EventDestinationListQuery = z.infer<typeof EventDestinationListQuery>;

export const EventDestinationAnswer = z.omit(EventDestination, { uri: true });
export type EventDestinationAnswer = z.infer<typeof EventDestinationAnswer>;

export const EventDestinationListAnswer = z.object({
  event_destinations: z.array(EventDestinationAnswer),
  uri: z.string(),
  next_page_uri: z.nullable(z.string()),
});
export type EventDestinationListAnswer = z.infer<typeof EventDestinationListAnswer>;
