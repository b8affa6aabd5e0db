/**
 * A request signed by its sender (Slack, PagerDuty…) instead of a bearer token: the signature
 * checked on the body's raw bytes (base64-decoded when API Gateway encoded them), before anything
 * parses it, by the sender's scheme — which compares in constant time. A refusal is 401 that says
 * only who must sign; why goes to the request line (`note`), never to the caller.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { problem } from '../http/problem.ts';
import type { ServiceSecret } from '../secrets/service-secret.ts';
import type { ApiMiddleware, ApiRequest } from './types.ts';

export type Verdict = { ok: true } | { ok: false; reason: string };

export interface SignatureScheme {
  /** Who signs, as the refusal names it: `Slack`. */
  signer: string;
  /** How, for the OpenAPI document. */
  description: string;
  /** Checks the request's signature with the service's secret; `now` in ms since the epoch. */
  verify(request: {
    headers: Record<string, string | undefined>;
    rawBody: Buffer;
    secret: ServiceSecret;
    now: number;
  }): Verdict;
}

/** The body exactly as its sender sent it. */
export function rawBody(event: APIGatewayProxyEventV2): Buffer {
  const body = event.body ?? '';
  return event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Needs the service's secret in the context (the `serviceSecret` middleware before it). */
export function signedBody(scheme: SignatureScheme): ApiMiddleware {
  const signedBodyBefore = (request: ApiRequest) => {
    const verdict = scheme.verify({
      headers: request.event.headers ?? {},
      rawBody: rawBody(request.event),
      secret: request.context.serviceSecret,
      now: Date.now(),
    });
    if (!verdict.ok) {
      throw problem(
        'unauthorized',
        `The request is not signed by ${scheme.signer}.`,
        {},
        { note: verdict.reason },
      );
    }
  };
  return { before: signedBodyBefore };
}
