/**
 * The sampling policy a function runs with. `serverless package` (and `serverless offline`,
 * `invoke local`) validate the policy file and bundle it into the functions as JSON: esbuild's
 * `define` replaces `globalThis.__samplingPolicy` below (serverless.yml custom.esbuild.define,
 * infra/serverless.cjs). The same file gives the schedules, so the two cannot disagree. Tests
 * and scripts, which run unbundled, set `globalThis.__samplingPolicy` themselves.
 */
import type { Policy } from './types.ts';

declare global {
  var __samplingPolicy: Policy | undefined;
}

export function bundledPolicy(): Policy {
  const policy = globalThis.__samplingPolicy;
  if (!policy) {
    throw new Error(
      'No sampling policy was bundled: package with serverless.yml (custom.esbuild.define).',
    );
  }
  return policy;
}
