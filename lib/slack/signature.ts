/**
 * Slack's request signature (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256 of
 * "v0:{X-Slack-Request-Timestamp}:{raw body}" keyed with the app's signing secret>`, checked on
 * the raw bytes before anything parses them, in constant time, with the timestamp within five
 * minutes either way (a replayed request is refused). Pure: the reason of a refusal is for the
 * log only; the caller learns nothing of it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureScheme, Verdict } from '../middleware/signed-body.ts';

export const SIGNATURE_VERSION = 'v0';
export const MAX_SKEW_SECONDS = 5 * 60;

export interface SignedRequest {
  signingSecret: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  /** The body exactly as Slack sent it (base64-decoded when API Gateway encoded it). */
  rawBody: Buffer;
  /** Now, in ms since the epoch. */
  now: number;
}

export function slackSignature(signingSecret: string, timestamp: string, rawBody: Buffer): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`${SIGNATURE_VERSION}:${timestamp}:`);
  hmac.update(rawBody);
  return `${SIGNATURE_VERSION}=${hmac.digest('hex')}`;
}

export function verifySlackSignature(request: SignedRequest): Verdict {
  if (!request.signingSecret) return { ok: false, reason: 'no Slack signing secret is configured' };
  if (request.timestamp === undefined) return { ok: false, reason: 'no X-Slack-Request-Timestamp' };
  if (request.signature === undefined) return { ok: false, reason: 'no X-Slack-Signature' };
  if (!/^\d{1,12}$/.test(request.timestamp)) {
    return { ok: false, reason: 'X-Slack-Request-Timestamp is not a number of seconds' };
  }
  const skew = Math.abs(request.now / 1000 - Number(request.timestamp));
  if (skew > MAX_SKEW_SECONDS) {
    return { ok: false, reason: `the timestamp is ${Math.round(skew)} s away from now` };
  }
  const expected = Buffer.from(
    slackSignature(request.signingSecret, request.timestamp, request.rawBody),
  );
  const given = Buffer.from(request.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'the signature does not match' };
  }
  return { ok: true };
}

/** Slack's scheme, for the route's `signedBody` middleware: the app's signing secret. */
export const slackSignatureScheme: SignatureScheme = {
  signer: 'Slack',
  description:
    "No token: Slack's request signature (X-Slack-Signature, X-Slack-Request-Timestamp; v0 HMAC-SHA256 with the app's signing secret) instead.",
  verify: ({ headers, rawBody, secret, now }) =>
    verifySlackSignature({
      signingSecret: secret.slack?.signing_secret,
      timestamp: headers['x-slack-request-timestamp'],
      signature: headers['x-slack-signature'],
      rawBody,
      now,
    }),
};
