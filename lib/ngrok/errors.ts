/**
 * One error hierarchy for every way a call to the ngrok API can fail. Messages never hold the
 * API key or the upstream URL: they are safe to log and to show.
 */

/** The base of every ngrok client error; `operation` names the call, e.g. `event_streams.get`. */
export class NgrokError extends Error {
  readonly operation: string;

  constructor(operation: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NgrokError';
    this.operation = operation;
  }
}

/** ngrok answered with an error status. */
export class NgrokApiError extends NgrokError {
  /** The HTTP status. */
  readonly status: number;
  /** `ERR_NGROK_…`, when ngrok sent one. */
  readonly errorCode: string | undefined;
  /** ngrok's own message (`msg`). */
  readonly ngrokMessage: string;
  /** ngrok's operation id, for a support ticket. */
  readonly operationId: string | undefined;
  /** Seconds to wait before trying again, from `Retry-After` (429 and 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    operation: string,
    details: {
      status: number;
      errorCode?: string | undefined;
      ngrokMessage: string;
      operationId?: string | undefined;
      retryAfterSeconds?: number | undefined;
    },
  ) {
    const code = details.errorCode ? ` [${details.errorCode}]` : '';
    const op = details.operationId ? ` (operation ${details.operationId})` : '';
    super(operation, `${operation}: HTTP ${details.status}: ${details.ngrokMessage}${code}${op}`);
    this.name = 'NgrokApiError';
    this.status = details.status;
    this.errorCode = details.errorCode;
    this.ngrokMessage = details.ngrokMessage;
    this.operationId = details.operationId;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/** The call's deadline passed before ngrok answered (retries included). */
export class NgrokTimeoutError extends NgrokError {
  constructor(operation: string, options?: ErrorOptions) {
    super(operation, `${operation}: no answer from the ngrok API before the deadline`, options);
    this.name = 'NgrokTimeoutError';
  }
}

/** The connection failed. `requestSent` is false only when ngrok certainly never saw the request. */
export class NgrokNetworkError extends NgrokError {
  readonly requestSent: boolean;
  readonly code: string | undefined;

  constructor(
    operation: string,
    code: string | undefined,
    requestSent: boolean,
    options?: ErrorOptions,
  ) {
    super(
      operation,
      `${operation}: network failure talking to the ngrok API (${code ?? 'unknown'})`,
      options,
    );
    this.name = 'NgrokNetworkError';
    this.code = code;
    this.requestSent = requestSent;
  }
}

/** ngrok answered with success, but not with the object the API defines. */
export class NgrokInvalidResponseError extends NgrokError {
  readonly status: number;

  constructor(operation: string, status: number, reason: string, options?: ErrorOptions) {
    super(operation, `${operation}: the ngrok API answered HTTP ${status} with ${reason}`, options);
    this.name = 'NgrokInvalidResponseError';
    this.status = status;
  }
}

/** An id that is not of the form `es_…`/`ed_…` (letters and digits): refused before any request. */
export class NgrokInvalidIdError extends NgrokError {
  constructor(operation: string, kind: string) {
    super(
      operation,
      `${operation}: not a valid ${kind} id (expected a prefix and letters and digits only)`,
    );
    this.name = 'NgrokInvalidIdError';
  }
}
