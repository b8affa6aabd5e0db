/**
 * serverless.yml's bridge to infra/: `${file(./infra/serverless.cjs):<name>}`.
 * Node 24 (pinned by this repo) loads the TypeScript modules directly.
 */
const { join } = require('node:path');
const { operationsResources } = require('./deploy.ts');
const { iamResources } = require('./iam.ts');
const { gapWarning, samplingResources } = require('./sampling.ts');
const { loadPolicyFile, policyPath } = require('../lib/sampling/load.ts');
const { zoneOffsetsOf } = require('../lib/sampling/schedules.ts');

const serviceDir = join(__dirname, '..');

async function samplingPolicy(resolveVariable) {
  const file = policyPath(await resolveVariable('param:samplingPolicy'), serviceDir);
  const policy = loadPolicyFile(file);
  // An incident's override may last no longer than any other: the stage's samplingOverrideMaxHours.
  const maxHours = Number(await resolveVariable('param:samplingOverrideMaxHours'));
  const tooLong = (policy.incidents ?? []).filter(
    (incident) => incident.max_duration_ms > maxHours * 3_600_000,
  );
  if (tooLong.length > 0) {
    throw new Error(
      `${file}: incidents ${tooLong.map((incident) => `'${incident.name}'`).join(', ')} last longer than samplingOverrideMaxHours (${maxHours} hours): shorten max_duration, or raise the param.`,
    );
  }
  return policy;
}

module.exports = {
  /** One role per function, holding only what it uses (infra/iam.ts). */
  iam: async ({ resolveVariable, resolveConfigurationProperty }) =>
    iamResources({
      service: await resolveVariable('self:service'),
      stage: await resolveVariable('sls:stage'),
      secretName: await resolveVariable('param:secretName'),
      functions: (await resolveConfigurationProperty(['functions'])) ?? {},
    }),

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
