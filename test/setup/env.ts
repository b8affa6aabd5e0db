/**
 * Jest setup (setupFiles), before any module of a test file loads: what Lambda itself sets in a
 * function's environment and the service's code reads at import (Powertools tells a cold start
 * by it), and the sampling policy that `serverless package` would bundle: the shipped
 * sampling-schedule.yml, read when first asked for. A test may assign another.
 */
import { join } from 'node:path';
import { loadPolicyFile } from '../../lib/sampling/load.ts';
import type { Policy } from '../../lib/sampling/policy.ts';

process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';

let policy: Policy | undefined;
Object.defineProperty(globalThis, '__samplingPolicy', {
  configurable: true,
  get: () => {
    policy ??= loadPolicyFile(join(__dirname, '..', '..', 'sampling-schedule.yml'));
    return policy;
  },
  set: (value: Policy) => {
    policy = value;
  },
});
