/**
 * PagerDuty's v3 webhooks: the signature (`X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw
 * body>`, several comma-separated during a secret rotation: one match passes), checked on the raw
 * bytes in constant time against every secret of the service's secret, before anything parses
 * them; and the event envelope this service reads. Pure.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod/mini';
import type { SignatureScheme, Verdict } from '../middleware/signed-body.ts';

export function pagerDutySignature(secret: string, rawBody: Buffer): string {
  return `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

export function verifyPagerDutySignature(request: {
  secrets: readonly string[];
  header: string | undefined;
  rawBody: Buffer;
}): Verdict {
  if (request.secrets.length === 0)
    return { ok: false, reason: 'no PagerDuty webhook secret is configured' };
  if (!request.header) return { ok: false, reason: 'no X-PagerDuty-Signature' };
  const given = request.header
    .split(',')
    .map((each) => each.trim())
    .filter((each) => each.startsWith('v1='))
    .map((each) => Buffer.from(each));
  if (given.length === 0) return { ok: false, reason: 'no v1 signature in X-PagerDuty-Signature' };
  // Every pair is compared, whatever matched before: the time does not tell which one did.
  let matched = false;
  for (const secret of request.secrets) {
    const expected = Buffer.from(pagerDutySignature(secret, request.rawBody));
    for (const signature of given) {
      if (signature.length === expected.length && timingSafeEqual(signature, expected))
        matched = true;
    }
  }
  return matched ? { ok: true } : { ok: false, reason: 'no signature matches a webhook secret' };
}

export const pagerDutySignatureScheme: SignatureScheme = {
  signer: 'PagerDuty',
  description:
    "No token: PagerDuty's webhook signature (X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body> with the subscription's secret; one match of several passes).",
  verify: ({ headers, rawBody, secret }) =>
    verifyPagerDutySignature({
      secrets: secret.pagerduty?.webhook_secrets ?? [],
      header: headers['x-pagerduty-signature'],
      rawBody,
    }),
};

const text = z.string({ error: 'must be a string' });

/** The v3 webhook envelope: what this service reads of it; other fields are ignored. */
export const PagerDutyPayload = z.object({
  event: z.object({
    id: text.check(z.minLength(1, { error: 'must not be empty' }), z.maxLength(128)),
    event_type: text.check(z.maxLength(128)),
    resource_type: z.optional(text),
    occurred_at: z.optional(text),
    data: z.optional(
      z.object({
        id: z.optional(
          text.check(z.regex(/^[A-Z0-9]{1,32}$/, { error: 'must be a PagerDuty id' })),
        ),
        type: z.optional(text),
        number: z.optional(z.number()),
        title: z.optional(text),
        service: z.optional(z.object({ id: text })),
      }),
    ),
  }),
});
export type PagerDutyPayload = z.infer<typeof PagerDutyPayload>;

/** The events that raise streams, and the one that ends it. */
export const RAISING = new Set(['incident.triggered', 'incident.reopened']);
export const RESOLVING = 'incident.resolved';

/** The partition of the deliveries seen (their event.id). */
export const PAGERDUTY_DELIVERIES = '#pagerduty-deliveries';
/** The partition of the incidents' latest resolutions (their occurred_at). */
export const PAGERDUTY_RESOLVED = '#pagerduty-resolved';
