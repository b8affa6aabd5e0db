import { logGroupLogicalId, operationsResources, secretIamResource } from '../../infra/deploy.ts';

describe('secretIamResource: the one secret the functions may read', () => {
  it('turns a name into an ARN pattern in the stack’s own partition, region and account', () => {
    expect(secretIamResource('team-a/ngrok')).toEqual({
      'Fn::Sub':
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
        'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:team-a/ngrok-??????',
    });
  });

  it('keeps a full ARN as it is, and completes a partial one', () => {
    const full = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/ngrok-AbCdEf';
    const partial = 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:team/ngrok';

    expect(secretIamResource(full)).toBe(full);
    expect(secretIamResource(partial)).toBe(`${partial}-??????`);
  });

  it('refuses what is neither a secret name nor a Secrets Manager ARN', () => {
    expect(() => secretIamResource('bad name')).toThrow(/not a Secrets Manager secret name/);
    expect(() => secretIamResource('')).toThrow(/not a Secrets Manager secret name/);
    expect(() => secretIamResource('arn:aws:s3:::bucket')).toThrow(
      /not a Secrets Manager secret ARN/,
    );
  });
});

describe('operationsResources', () => {
  const input = {
    service: 'svc',
    stage: 'dev',
    functionNames: ['getEventStream', 'my-fn_x'],
    metricsNamespace: 'NS',
    alarmTopicArn: '',
    throttleRateLimit: '2.5',
    throttleBurstLimit: 10,
  };

  it('names log groups as the framework does', () => {
    expect(logGroupLogicalId('getEventStream')).toBe('GetEventStreamLogGroup');
    expect(logGroupLogicalId('my-fn_x')).toBe('MyDashfnUnderscorexLogGroup');
  });

  it('makes a metric filter per function and numbers of the throttle params', () => {
    const { Resources, extensions } = operationsResources(input);

    expect(Object.keys(Resources).sort()).toEqual([
      'GetEventStreamRejectedKeyFilter',
      'HttpApi5xxAlarm',
      'MyDashfnUnderscorexRejectedKeyFilter',
      'UpstreamRejectedKeyAlarm',
    ]);
    expect(extensions).toEqual({
      HttpApiStage: {
        Properties: {
          DefaultRouteSettings: {
            DetailedMetricsEnabled: false,
            ThrottlingRateLimit: 2.5,
            ThrottlingBurstLimit: 10,
          },
        },
      },
    });
  });

  it('refuses a throttle that is not a positive number', () => {
    expect(() => operationsResources({ ...input, throttleRateLimit: '0' })).toThrow(
      /throttleRateLimit must be a positive number/,
    );
    expect(() => operationsResources({ ...input, throttleBurstLimit: '1.5' })).toThrow(
      /throttleBurstLimit must be a positive whole number/,
    );
  });
});
