/**
 * `uri` and `next_page_uri` in answers point at this API, never at the upstream ngrok API.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { publicBaseUrl } from '../config.ts';
import type { EventStream, EventStreamList } from '../ngrok/schemas.ts';

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

export function presentEventStream(stream: EventStream, baseUrl: string): EventStream {
  return { ...stream, uri: `${baseUrl}/event-streams/${encodeURIComponent(stream.id)}` };
}

export function presentEventStreamList(
  list: EventStreamList,
  baseUrl: string,
  limit: number | undefined,
): EventStreamList {
  const last = list.event_streams.at(-1);
  let next: string | null = null;
  if (list.next_page_uri !== null && last !== undefined) {
    const query = new URLSearchParams({ before_id: last.id });
    if (limit !== undefined) query.set('limit', String(limit));
    next = `${baseUrl}/event-streams?${query}`;
  }
  return {
    event_streams: list.event_streams.map((stream) => presentEventStream(stream, baseUrl)),
    uri: `${baseUrl}/event-streams`,
    next_page_uri: next,
  };
}
