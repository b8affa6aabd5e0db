/**
 * The worker runs once per command, however often Lambda delivers its event (an asynchronous
 * invoke is delivered at least once): Powertools Idempotency, keyed on the command's request
 * id, with its records in DynamoDB (IDEMPOTENCY_TABLE, kept an hour). A second delivery gets the
 * first one's result and posts nothing; a run that failed leaves no record, so its retry runs.
 * The store is made on the first invocation, when the environment is complete.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { MiddlewareObj } from '@middy/core';
import { settings } from '../settings.ts';

export const IDEMPOTENCY_SECONDS = 3600;

export function oncePerRequestId<E, R, C>(): MiddlewareObj<E, R, Error, C> {
  let inner: MiddlewareObj | undefined;
  const middleware = (): MiddlewareObj => {
    inner ??= makeHandlerIdempotent({
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: settings.slackIdempotencyTable(),
      }),
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'request_id',
        expiresAfterSeconds: IDEMPOTENCY_SECONDS,
      }),
    }) as MiddlewareObj;
    return inner;
  };
  return {
    before: (request) => middleware().before?.(request as never),
    after: (request) => middleware().after?.(request as never),
    onError: (request) => middleware().onError?.(request as never),
  };
}
