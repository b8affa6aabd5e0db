/**
 * `uri` and `next_page_uri` in answers point at this API, never at the upstream ngrok API.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type {
  EventDestination,
  EventDestinationList,
  EventStream,
  EventStreamList,
  EventTarget,
} from '../ngrok/schemas.ts';
import type {
  EventDestinationAnswer,
  EventDestinationListAnswer,
} from '../schemas/event-destinations-api.ts';
import { settings } from '../settings.ts';

/** A host as DNS or an address spells it, with an optional port: nothing else in a link. */
const HOST =
  /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/**
 * Where callers reach this API: PUBLIC_BASE_URL when set (a custom domain with a base path);
 * deployed, `https://` and the domain API Gateway says the request came to (never a header the
 * caller chose), with the stage unless it is `$default`. Under `serverless offline` (IS_OFFLINE)
 * the request's Host, when it is a plain host and port, over http.
 */
export function apiBaseUrl(event: APIGatewayProxyEventV2): string {
  const configured = settings.publicBaseUrl();
  if (configured) return configured;
  const stage = event.requestContext?.stage;
  const stagePath = stage && stage !== '$default' ? `/${encodeURIComponent(stage)}` : '';
  if (settings.offline()) {
    const host = event.headers?.host ?? '';
    return `http://${HOST.test(host) ? host : '127.0.0.1'}${stagePath}`;
  }
  const domain = event.requestContext?.domainName ?? '';
  return `https://${HOST.test(domain) ? domain : 'localhost'}${stagePath}`;
}

/** The next page on this API, asked for by the last id seen (ngrok's own link is not passed on). */
function nextPageUri(
  collection: string,
  page: { next_page_uri: string | null },
  items: readonly { id: string }[],
  baseUrl: string,
  limit: number | undefined,
): string | null {
  const last = items.at(-1);
  if (page.next_page_uri === null || last === undefined) return null;
  const query = new URLSearchParams({ before_id: last.id });
  if (limit !== undefined) query.set('limit', String(limit));
  return `${baseUrl}/${collection}?${query}`;
}

export function presentEventStream(stream: EventStream, baseUrl: string): EventStream {
  return { ...stream, uri: `${baseUrl}/event-streams/${encodeURIComponent(stream.id)}` };
}

export function presentEventStreamList(
  list: EventStreamList,
  baseUrl: string,
  limit: number | undefined,
): EventStreamList {
  return {
    event_streams: list.event_streams.map((stream) => presentEventStream(stream, baseUrl)),
    uri: `${baseUrl}/event-streams`,
    next_page_uri: nextPageUri('event-streams', list, list.event_streams, baseUrl, limit),
  };
}

/** Whatever ngrok sends, an AWS secret access key never leaves this service (ngrok sends null). */
function withoutSecretKeys(target: EventTarget): EventTarget {
  const scrubbed = structuredClone(target);
  for (const variant of [scrubbed.firehose, scrubbed.kinesis, scrubbed.cloudwatch_logs]) {
    if (variant?.auth.creds) variant.auth.creds.aws_secret_access_key = null;
  }
  return scrubbed;
}

export function presentEventDestination(destination: EventDestination): EventDestinationAnswer {
  const { uri: _upstream, ...rest } = destination;
  return { ...rest, target: withoutSecretKeys(destination.target) };
}

export function presentEventDestinationList(
  list: EventDestinationList,
  baseUrl: string,
  limit: number | undefined,
): EventDestinationListAnswer {
  return {
    event_destinations: list.event_destinations.map(presentEventDestination),
    uri: `${baseUrl}/event-destinations`,
    next_page_uri: nextPageUri('event-destinations', list, list.event_destinations, baseUrl, limit),
  };
}
