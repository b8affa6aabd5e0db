/**
 * GET /sampling/plan?at= → 200, every stream the sampling schedule governs: its rule and window,
 * current and desired rate at `at` (default: now), and when the schedule next sets it. Scope: read.
 */
import { callNgrok } from '../lib/call-ngrok.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { bundledPolicy } from '../lib/sampling/bundled.ts';
import { Pacer, requestsPerMinute } from '../lib/sampling/pace.ts';
import { governedStreams, planStream, summarize } from '../lib/sampling/run.ts';
import { formatUtc } from '../lib/sampling/zone.ts';
import { SamplingAnswer, SamplingPlanQuery } from '../lib/schemas/sampling-api.ts';

export const handler = httpRoute(
  {
    method: 'GET',
    path: '/sampling/plan',
    operation: 'getSamplingPlan',
    summary:
      'The sampling schedule at an instant: each governed stream, its current and desired rate, and its next change',
    auth: { bearer: 'read' },
    query: SamplingPlanQuery,
    answer: { status: 200, description: 'The plan.', schema: SamplingAnswer },
  },
  async ({ query }, _event, context) => {
    const at = query.at ?? Date.now();
    const streams = await callNgrok(context, async (ngrok, call) => {
      const run = {
        ngrok,
        call,
        pacer: new Pacer(requestsPerMinute()),
        deadline: call.deadline ?? at,
      };
      const governed = await governedStreams(bundledPolicy(), run);
      return governed.map((each) => planStream(each, at));
    });
    return json(200, { at: formatUtc(at), streams, summary: summarize(streams) });
  },
);
