/**
 * POST /hooks/pagerduty → 200: a PagerDuty v3 webhook subscription. Signed by PagerDuty
 * (X-PagerDuty-Signature, checked on the raw body before anything else). incident.triggered and
 * incident.reopened raise the streams of the incidents that name its service; incident.resolved
 * ends it; a delivery seen before does nothing. Answers within PagerDuty's 5 seconds: the
 * override is stored first, and what ngrok does not take in time its runs set.
 */
import { httpRoute, json } from '../lib/http/route.ts';
import { countOutcomes } from '../lib/incidents/deliveries.ts';
import { PagerDutyPayload, pagerDutySignatureScheme } from '../lib/incidents/pagerduty.ts';
import { handlePagerDuty } from '../lib/incidents/pagerduty-event.ts';
import { scheduleTarget } from '../lib/overrides/schedules.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { MAX_HOOK_BODY_BYTES, PagerDutyAnswer } from '../lib/schemas/hooks-api.ts';
import { settings } from '../lib/settings.ts';

/** PagerDuty gives a webhook 5 s; a cold start and the answer need some of them. */
const ANSWER_WITHIN_MS = 3_500;

export const handler = httpRoute(
  {
    method: 'POST',
    path: '/hooks/pagerduty',
    operation: 'pagerdutyWebhook',
    summary:
      'PagerDuty incidents: triggered raises the streams of matching incidents, resolved ends it',
    auth: { signature: pagerDutySignatureScheme },
    body: PagerDutyPayload,
    maxBodyBytes: MAX_HOOK_BODY_BYTES,
    errorStatuses: [400, 401, 413, 415, 422, 500, 503],
    answer: { status: 200, description: 'What the event did.', schema: PagerDutyAnswer },
  },
  async ({ body }, _event, context) => {
    const now = Date.now();
    const target = scheduleTarget(context.invokedFunctionArn);
    const result = await samplingRun(
      context,
      (run) => handlePagerDuty(run, body, target, settings.samplingOverrideMaxHours(), now),
      { until: now + ANSWER_WITHIN_MS },
    );
    countOutcomes([result.outcome]);
    return json(200, result);
  },
);
