/**
 * `uri` and `next_page_uri` in answers point at this API, never at the upstream ngrok API.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { publicBaseUrl } from '../config.ts';
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

/**
 * Where callers reach this API: PUBLIC_BASE_URL when set (a custom domain with a base path),
 * else the host the request came to, with its stage unless it is `$default`. API Gateway sets
 * X-Forwarded-Proto; `serverless offline` serves plain http.
 */
export function apiBaseUrl(event: APIGatewayProxyEventV2): string {
  const configured = publicBaseUrl();
  if (configured) return configured;
  const host = event.headers?.host ?? event.requestContext.domainName;
  const proto = event.headers?.['x-forwarded-proto'] ?? (process.env.IS_OFFLINE ? 'http' : 'https');
  const stage = event.requestContext.stage;
  return `${proto}://${host}${stage && stage !== '$default' ? `/${stage}` : ''}`;
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
