// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation JSON, read field by field
import { FUNCTION_GRANTS, iamResources, roleLogicalId } from '../../infra/iam.ts';

const functions = Object.fromEntries(
  [...Object.keys(FUNCTION_GRANTS), 'getEventStream'].map((name) => [
    name,
    { role: roleLogicalId(name) },
  ]),
);
const input = { service: 'svc', stage: 'dev', secretName: 'team/ngrok', functions };

describe('iamResources: one role per function', () => {
  it('makes a role for every function, assumable by Lambda alone', () => {
    const { Resources } = iamResources(input);

    expect(Object.keys(Resources).sort()).toEqual(Object.keys(functions).map(roleLogicalId).sort());
    expect(Resources.GetOpenApiRole).toMatchObject({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
      },
    });
  });

  it('lets a function write its own log group, under the name Lambda gives it or its own', () => {
    const { Resources } = iamResources({
      ...input,
      functions: { ...functions, getOpenApi: { role: 'GetOpenApiRole', name: 'custom-name' } },
    });
    const statements = (Resources.GetOpenApiRole as any).Properties.Policies[0].PolicyDocument
      .Statement;
    const other = (Resources.GetEventStreamRole as any).Properties.Policies[0].PolicyDocument
      .Statement;

    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: {
          'Fn::Sub':
            'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/custom-name:*',
        },
      },
    ]);
    expect(other[0].Resource['Fn::Sub']).toMatch(
      /log-group:\/aws\/lambda\/svc-dev-getEventStream:\*$/,
    );
    expect(other[1]).toEqual({
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue'],
      Resource: {
        'Fn::Sub':
          'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:team/ngrok-??????',
      },
    });
  });

  it('gives a function without a row the default: the secret, and its logs', () => {
    const { Resources } = iamResources({
      ...input,
      functions: { ...functions, newRoute: { role: 'NewRouteRole' } },
    });
    const statements = (Resources.NewRouteRole as any).Properties.Policies[0].PolicyDocument
      .Statement;

    expect(statements.map((statement: any) => statement.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['secretsmanager:GetSecretValue'],
    ]);
  });

  it('refuses a row without a function, and a function naming another role', () => {
    const { getOpenApi: _, ...fewer } = functions;
    expect(() => iamResources({ ...input, functions: fewer })).toThrow(
      'infra/iam.ts grants permissions to getOpenApi, which serverless.yml does not declare.',
    );
    expect(() =>
      iamResources({
        ...input,
        functions: { ...functions, getOpenApi: { role: 'SlackWorkerRole' } },
      }),
    ).toThrow(
      "Function 'getOpenApi' must name its own role in serverless.yml: role: GetOpenApiRole",
    );
    expect(() => iamResources({ ...input, functions: { ...functions, getOpenApi: {} } })).toThrow(
      /must name its own role/,
    );
  });
});
