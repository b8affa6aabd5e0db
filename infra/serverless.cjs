/**
 * serverless.yml's bridge to infra/: `${file(./infra/serverless.cjs):<name>}`.
 * Node 24 (pinned by this repo) loads the TypeScript modules directly.
 */
const { join } = require('node:path');
const { operationsResources, secretIamResource } = require('./deploy.ts');
const { gapWarning, samplingResources } = require('./sampling.ts');
const { loadPolicyFile, policyPath } = require('../lib/sampling/load.ts');
const { zoneOffsetsOf } = require('../lib/sampling/schedules.ts');

const serviceDir = join(__dirname, '..');

async function samplingPolicy(resolveVariable) {
  const file = policyPath(await resolveVariable('param:samplingPolicy'), serviceDir);
  return loadPolicyFile(file);
}

module.exports = {
  secretResource: async ({ resolveVariable }) =>
    secretIamResource(await resolveVariable('param:secretName')),

  operations: async ({ resolveVariable, resolveConfigurationProperty }) =>
    operationsResources({
      service: await resolveVariable('self:service'),
      stage: await resolveVariable('sls:stage'),
      functionNames: Object.keys((await resolveConfigurationProperty(['functions'])) ?? {}),
      metricsNamespace: await resolveVariable('param:metricsNamespace'),
      alarmTopicArn: (await resolveVariable('param:alarmTopicArn')) ?? '',
      throttleRateLimit: await resolveVariable('param:throttleRateLimit'),
      throttleBurstLimit: await resolveVariable('param:throttleBurstLimit'),
    }),

  /** The validated policy, as the JS the functions' bundles get for globalThis.__samplingPolicy. */
  samplingPolicyDefine: async ({ resolveVariable }) =>
    JSON.stringify(await samplingPolicy(resolveVariable)),

  /** The offsets of the policy's zones, as the JS the bundles get for globalThis.__zoneOffsets. */
  zoneOffsetsDefine: async ({ resolveVariable }) =>
    JSON.stringify(zoneOffsetsOf(await samplingPolicy(resolveVariable), Date.now())),

  sampling: async ({ resolveVariable }) => {
    const { Resources, gaps } = samplingResources({
      service: await resolveVariable('self:service'),
      stage: await resolveVariable('sls:stage'),
      policy: await samplingPolicy(resolveVariable),
      now: Date.now(),
      alarmTopicArn: (await resolveVariable('param:alarmTopicArn')) ?? '',
    });
    const warning = gapWarning(gaps);
    if (warning) console.warn(`\nWarning: ${warning}\n`);
    return { Resources };
  },
};
