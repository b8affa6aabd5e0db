/** The alert webhooks' answers (for the OpenAPI document and the tests), and their body limit. */
import * as z from 'zod/mini';

/**
 * The largest body the alert webhooks take: a group of 500 alerts with their labels and
 * annotations fits (about 1 KiB each); API Gateway itself takes up to 10 MB.
 */
export const MAX_HOOK_BODY_BYTES = 1024 * 1024;

const STREAM_OUTCOMES = ['override-set', 'override-extended', 'override-ended', 'ignored'] as const;
const outcome = z.enum(STREAM_OUTCOMES);

export const StreamResult = z.object({
  stream_id: z.string().check(z.describe('Empty when streams could not be listed (see detail).')),
  incident: z.string(),
  outcome,
  detail: z.optional(z.string()),
});

export const AlertmanagerAnswer = z.object({
  alerts: z.array(
    z.object({
      fingerprint: z.string(),
      alertname: z.string(),
      status: z.enum(['firing', 'resolved']),
      outcome: z.enum([...STREAM_OUTCOMES, 'no-incident']),
      incidents: z.array(z.string()),
      streams: z.array(StreamResult),
      detail: z.optional(z.string()),
    }),
  ),
  truncated_alerts: z.int(),
  note: z.optional(z.string()),
});

export const PagerDutyAnswer = z.object({
  event_id: z.string(),
  event_type: z.string(),
  outcome: z.enum([...STREAM_OUTCOMES, 'no-incident', 'duplicate']),
  incidents: z.array(z.string()),
  streams: z.array(StreamResult),
  detail: z.optional(z.string()),
});
