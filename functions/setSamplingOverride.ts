/**
 * PUT /event-streams/{id}/sampling-override → 200: sets the stream's manual override — a rate
 * from now (or `starts_at`) for a `duration` or `until` an instant, never longer than
 * samplingOverrideMaxHours — in place of the one it had. Sets the rate now if the override holds
 * now; the schedules at its start and end do the rest. Answers the override, the stream, and
 * what the stream goes to when it ends. Scope: write.
 */

import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { validationFailed } from '../lib/http/problem.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { MANUAL_KEY, setOverride } from '../lib/overrides/operations.ts';
import { presentOverride } from '../lib/overrides/present.ts';
import { scheduleTarget } from '../lib/overrides/schedules.ts';
import { overrideWindow } from '../lib/overrides/window.ts';
import { parseIsoDuration } from '../lib/sampling/duration.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { EventStreamPath } from '../lib/schemas/event-streams-api.ts';
import { SamplingOverrideAnswer, SamplingOverrideBody } from '../lib/schemas/sampling-api.ts';
import { settings } from '../lib/settings.ts';

export const handler = httpRoute(
  {
    method: 'PUT',
    path: '/event-streams/{id}/sampling-override',
    operation: 'setSamplingOverride',
    summary:
      'Hold an Event Stream at a sampling rate for a while (ends by itself; the schedule respects it)',
    auth: { bearer: 'write' },
    params: EventStreamPath,
    body: SamplingOverrideBody,
    errorStatuses: [400, 401, 403, 404, 413, 415, 422, 429, 500, 502, 503, 504],
    answer: {
      status: 200,
      description: 'The override, the stream, and what the stream goes to when the override ends.',
      schema: SamplingOverrideAnswer,
    },
  },
  async ({ path, body }, event, context) => {
    const now = Date.now();
    let durationMs: number | undefined;
    if (body.duration !== undefined) {
      const duration = parseIsoDuration(body.duration);
      if ('invalid' in duration) {
        throw validationFailed([{ field: 'body.duration', message: duration.invalid }]);
      }
      durationMs = duration.ms;
    }
    const window = overrideWindow(
      {
        startsAt: body.starts_at === undefined ? undefined : Date.parse(body.starts_at),
        until: body.until === undefined ? undefined : Date.parse(body.until),
        durationMs,
      },
      now,
      settings.samplingOverrideMaxHours(),
    );
    if ('invalid' in window) {
      throw validationFailed([{ field: `body.${window.field}`, message: window.invalid }]);
    }
    const target = scheduleTarget(context.invokedFunctionArn);
    const result = await samplingRun(context, (run) =>
      setOverride(
        run,
        {
          streamId: path.id,
          key: MANUAL_KEY,
          rate: body.sampling_rate,
          startsAt: window.starts_at,
          expiresAt: window.expires_at,
          reason: body.reason ?? '',
          actor: { kind: 'http', name: context.callerName },
        },
        target,
        now,
      ),
    );
    context.record.streamId = path.id;
    return json(200, {
      override: presentOverride(result.override),
      event_stream: presentEventStream(result.stream, apiBaseUrl(event)),
      // biome-ignore lint/suspicious/noThenProperty: the answer's field (a plain object, not a thenable)
      then: result.afterwards,
    });
  },
);
