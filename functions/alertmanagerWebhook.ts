/**
 * POST /hooks/alertmanager → 200: Alertmanager's webhook receiver (and Grafana's webhook contact
 * point). Each alert alone: firing raises the streams of the incidents its labels match (a
 * sampling override that ends by itself at the incident's max_duration), the same alert again
 * extends it, resolved ends it. Answers what was done per alert for every well-formed payload,
 * matched or not; 5xx only when an override could not be stored — never because ngrok is slow
 * or down (the override's runs set the stream then). Scope: alerts.
 */
import { httpRoute, json } from '../lib/http/route.ts';
import { AlertmanagerPayload } from '../lib/incidents/alertmanager.ts';
import { handleAlertmanager } from '../lib/incidents/alerts.ts';
import { countOutcomes } from '../lib/incidents/deliveries.ts';
import { logger } from '../lib/observability/logger.ts';
import { scheduleTarget } from '../lib/overrides/schedules.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { AlertmanagerAnswer, MAX_HOOK_BODY_BYTES } from '../lib/schemas/hooks-api.ts';
import { settings } from '../lib/settings.ts';

/** Alertmanager gives a receiver 10 s before it sends again: answer well within them. */
const ANSWER_WITHIN_MS = 8_000;

export const handler = httpRoute(
  {
    method: 'POST',
    path: '/hooks/alertmanager',
    operation: 'alertmanagerWebhook',
    summary:
      'Alertmanager or Grafana alerts: firing raises the streams of matching incidents, resolved ends it',
    auth: { bearer: 'alerts' },
    body: AlertmanagerPayload,
    maxBodyBytes: MAX_HOOK_BODY_BYTES,
    errorStatuses: [400, 401, 403, 413, 415, 422, 500, 503],
    answer: { status: 200, description: 'What each alert did.', schema: AlertmanagerAnswer },
  },
  async ({ body }, _event, context) => {
    const now = Date.now();
    const truncated = body.truncatedAlerts ?? 0;
    if (truncated > 0) {
      logger.warn('Alertmanager left alerts out of this delivery (truncatedAlerts)', { truncated });
    }
    const target = scheduleTarget(context.invokedFunctionArn);
    const maxHours = settings.samplingOverrideMaxHours();
    const alerts = await samplingRun(
      context,
      (run) => handleAlertmanager(run, body, target, maxHours, now),
      { until: now + ANSWER_WITHIN_MS },
    );
    countOutcomes(alerts.map((alert) => alert.outcome));
    return json(200, {
      alerts,
      truncated_alerts: truncated,
      ...(truncated > 0
        ? {
            note: `Alertmanager left ${truncated} alerts out of this delivery (its max_alerts): they did nothing here.`,
          }
        : {}),
    });
  },
);
