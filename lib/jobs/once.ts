/**
 * A job that runs once per event, however often Lambda delivers it (an asynchronous invoke is
 * delivered at least once): Powertools Idempotency, keyed on a field of the event, with its
 * records in a DynamoDB table (kept `seconds`). A second delivery gets the first one's result
 * and does nothing; a run that failed leaves no record, so its retry runs. The store is made on
 * the first invocation, when the environment is complete.
 */
import { IdempotencyConfig } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { MiddlewareObj } from '@middy/core';

export interface OnceOptions {
  /** The event's field that names the event: a second delivery carries the same. */
  key: string;
  /** The DynamoDB table of the records (read when first needed). */
  table: () => string;
  /** How long a record is kept. */
  seconds: number;
}

export function oncePerEvent<E, R, C>(options: OnceOptions): MiddlewareObj<E, R, Error, C> {
  let inner: MiddlewareObj | undefined;
  const middleware = (): MiddlewareObj => {
    inner ??= makeHandlerIdempotent({
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.table() }),
      config: new IdempotencyConfig({
        eventKeyJmesPath: options.key,
        expiresAfterSeconds: options.seconds,
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
