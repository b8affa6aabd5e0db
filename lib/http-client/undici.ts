/**
 * The parts of undici the functions use — its Agent and its `request` API — loaded from their
 * own modules. undici's entry point loads everything it has (fetch, every dispatcher, the mock
 * agents, cache stores, WebSocket, a second HTTP parser): 59 % of a bundle, and most of the time
 * a cold start spends compiling. The paths are undici's own files (its package has no `exports`
 * map to forbid them); test/unit/undici-parts.test.ts fails if an upgrade moves or changes them.
 */
import type { Dispatcher } from 'undici';
import apiRequest from 'undici/lib/api/api-request.js';
import Agent from 'undici/lib/dispatcher/agent.js';

export { Agent, type Dispatcher };

/** What `request` sends: an origin and a path, never a URL to parse again per call. */
export type RequestOptions = Dispatcher.RequestOptions;

/** undici's `dispatcher.request(options)`, without undici's entry point. */
export function request(
  dispatcher: Dispatcher,
  options: RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, options);
}

let shared: Agent | undefined;

/**
 * One keep-alive connection pool per container, made on first use: a warm Lambda reuses its
 * connections (to ngrok, to Slack) across invocations. HTTP/1.1 only: undici 8 would otherwise
 * offer HTTP/2 to servers over TLS, a second protocol stack for a few requests per invocation
 * (and 12 ms of loading Node.js's http2 in every cold start; the bundles leave it out).
 */
export function sharedAgent(): Agent {
  shared ??= new Agent({ keepAliveTimeout: 10_000, connections: 8, allowH2: false });
  return shared;
}
