/**
 * The sandbox's stand-in for Lambda's Invoke, through the real `@aws-sdk/client-lambda`: it
 * records what it is asked to run (the tests deliver it) and refuses payloads over Lambda's
 * limits as Lambda does (API_Invoke: 6 MB synchronous, 1 MB asynchronous).
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { control, useSandbox } from '../helpers/sandbox.ts';

const ctx = useSandbox();
let lambda: LambdaClient;

beforeAll(() => {
  lambda = new LambdaClient({
    endpoint: ctx.url,
    region: 'us-east-1',
    credentials: ctx.sandbox.awsCredentials,
  });
});
afterAll(() => lambda.destroy());

const MIB = 1024 * 1024;
const payloadOf = (bytes: number) => JSON.stringify({ v: 'x'.repeat(bytes - 8) });

async function invocations(): Promise<{ function: string; invocation_type: string }[]> {
  return (await control<{ invocations: never[] }>(ctx.url, 'GET', '/lambda/invocations'))
    .invocations;
}

describe('Sandbox Lambda Invoke', () => {
  it('queues an asynchronous invoke of up to 1 MB (202) and records it', async () => {
    const answer = await lambda.send(
      new InvokeCommand({
        FunctionName: 'worker',
        InvocationType: 'Event',
        Payload: payloadOf(MIB),
      }),
    );

    expect(answer.StatusCode).toBe(202);
    expect(await invocations()).toMatchObject([{ function: 'worker', invocation_type: 'Event' }]);
  });

  it('refuses an asynchronous payload over 1 MB as Lambda does: 413 RequestEntityTooLargeException', async () => {
    const error = await lambda
      .send(
        new InvokeCommand({
          FunctionName: 'worker',
          InvocationType: 'Event',
          Payload: payloadOf(MIB + 1),
        }),
      )
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: `${MIB + 1} byte payload is too large for the Event invocation type (limit ${MIB} bytes)`,
      $metadata: { httpStatusCode: 413 },
    });
    expect(await invocations()).toEqual([]);
  });

  it('refuses a synchronous payload over 6 MB as Lambda does', async () => {
    const error = await lambda
      .send(new InvokeCommand({ FunctionName: 'worker', Payload: payloadOf(6 * MIB + 1) }))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation',
      $metadata: { httpStatusCode: 413 },
    });
    expect(await invocations()).toEqual([]);
  });
});
