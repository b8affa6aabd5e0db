/**
 * GET /sampling/plan?at= → 200, every stream the sampling schedule governs: its rule and window,
 * current and desired rate at `at` (default: now), and when the schedule next sets it. Scope: read.
 */
import { httpRoute, json } from '../lib/http/route.ts';
import { plan } from '../lib/sampling/run.ts';
import { samplingRun } from '../lib/sampling/session.ts';
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
    const { streams, summary } = await samplingRun(context, (run) => plan(run, at));
    return json(200, { at: formatUtc(at), streams, summary });
  },
);
