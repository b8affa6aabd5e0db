/**
 * POST /sampling/apply → 200: sets every stream the sampling schedule governs to the rate that
 * holds now, patching only those that differ; `{"dry_run": true}` answers the plan and changes
 * nothing. Each change is audited with the caller. If any stream failed: 502, with the whole
 * list. Scope: write.
 */
import { problem } from '../lib/http/problem.ts';
import { httpRoute, json } from '../lib/http/route.ts';
import { apply, plan } from '../lib/sampling/run.ts';
import { samplingRun } from '../lib/sampling/session.ts';
import { formatUtc } from '../lib/sampling/zone.ts';
import { SamplingAnswer, SamplingApplyBody } from '../lib/schemas/sampling-api.ts';

export const handler = httpRoute(
  {
    method: 'POST',
    path: '/sampling/apply',
    operation: 'applySampling',
    summary: 'Apply the sampling schedule now (only streams that differ are changed)',
    auth: { bearer: 'write' },
    body: SamplingApplyBody,
    bodyOptional: true,
    answer: {
      status: 200,
      description: 'Every stream set; each says changed or unchanged.',
      schema: SamplingAnswer,
    },
  },
  async ({ body }, _event, context) => {
    const at = Date.now();
    const dryRun = body.dry_run ?? false;
    const { streams, summary } = await samplingRun(context, (run) =>
      dryRun
        ? plan(run, at)
        : apply(run, at, { actor: { kind: 'http', name: context.callerName }, cause: 'apply' }),
    );
    const answer = { at: formatUtc(at), dry_run: dryRun, streams, summary };
    if (answer.summary.failed > 0) {
      throw problem(
        'sampling-apply-incomplete',
        `${answer.summary.failed} of ${answer.summary.streams} streams were not set (see streams[].error); the others were. Apply again to finish: streams already right are left alone.`,
        { extensions: answer },
      );
    }
    return json(200, answer);
  },
);
