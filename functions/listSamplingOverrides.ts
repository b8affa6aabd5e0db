/**
 * GET /sampling/overrides → 200: every override that holds or is to come, soonest end first,
 * each with its stream's effective rate now. Scope: read.
 */
import { httpRoute, json } from '../lib/http/route.ts';
import { listOverrides } from '../lib/overrides/list.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { SamplingOverrideList } from '../lib/schemas/sampling-api.ts';

export const handler = httpRoute(
  {
    method: 'GET',
    path: '/sampling/overrides',
    operation: 'listSamplingOverrides',
    summary: 'The sampling overrides that hold or are to come, with each stream’s effective rate',
    auth: { bearer: 'read' },
    errorStatuses: [401, 403, 429, 500, 502, 503, 504],
    answer: { status: 200, description: 'The overrides.', schema: SamplingOverrideList },
  },
  async (_input, _event, context) => {
    const overrides = await samplingRun(context, (run) => listOverrides(run, Date.now()));
    return json(200, { overrides });
  },
);
