/**
 * GET /sampling/plan?at= → 200, every stream the sampling schedule governs: its rule and window,
 * current and desired rate at `at` (default: now), and when the schedule next sets it. Scope: read.
 */
import { httpRoute, json } from '../lib/http/route.ts';
import { plan } from '../lib/sampling/run.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { formatUtc } from '../lib/sampling/zone.ts';
import { SamplingPlanQuery } from '../lib/schemas/sampling-api.ts';

export const handler = httpRoute(
  { operation: 'getSamplingPlan', scope: 'read', query: SamplingPlanQuery },
  async ({ query }, _event, context) => {
    const at = query.at ?? Date.now();
    const { streams, summary } = await samplingRun(context, (run) => plan(run, at));
    return json(200, { at: formatUtc(at), streams, summary });
  },
);
