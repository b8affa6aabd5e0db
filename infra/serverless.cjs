/**
 * serverless.yml's bridge to infra/deploy.ts: `${file(./infra/serverless.cjs):<name>}`.
 * Node 24 (pinned by this repo) loads the TypeScript module directly.
 */
const { operationsResources, secretIamResource } = require('./deploy.ts');

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
};
