/**
 * DELETE /event-streams/{id}/sampling-override → 200: ends the stream's manual override now
 * (one that holds or is to come), deletes its schedules and sets the stream to its effective
 * rate. 404 when it has none. Scope: write.
 */

import { apiBaseUrl, presentEventStream } from '../lib/http/links.ts';
import { problem } from '../lib/http/problem.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { EventStream } from '../lib/ngrok/schemas.ts';
import { MANUAL_KEY, releaseOverride } from '../lib/overrides/operations.ts';
import { scheduleTarget } from '../lib/overrides/schedules.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { EventStreamPath } from '../lib/schemas/event-streams-api.ts';

export const handler = httpRoute(
  {
    method: 'DELETE',
    path: '/event-streams/{id}/sampling-override',
    operation: 'endSamplingOverride',
    summary: "End an Event Stream's manual sampling override now",
    auth: { bearer: 'write' },
    params: EventStreamPath,
    errorStatuses: [400, 401, 403, 404, 429, 500, 502, 503, 504],
    answer: {
      status: 200,
      description: 'The stream, at its effective rate now.',
      schema: EventStream,
    },
  },
  async ({ path }, event, context) => {
    const target = scheduleTarget(context.invokedFunctionArn);
    const ended = await samplingRun(context, (run) =>
      releaseOverride(
        run,
        path.id,
        MANUAL_KEY,
        { kind: 'http', name: context.callerName },
        target,
        Date.now(),
      ),
    );
    context.record.streamId = path.id;
    if (!ended) {
      throw problem(
        'not-found',
        `Event Stream ${path.id} has no manual sampling override that holds or is to come.`,
      );
    }
    return json(200, presentEventStream(ended.stream, apiBaseUrl(event)));
  },
);
