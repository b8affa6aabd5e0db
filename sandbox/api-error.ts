/**
 * An ngrok API error as the sandbox answers it: `{error_code?, status_code, msg, details}`
 * (docs/ngrok-api.md §5). `details` holds strings only: the Go SDK decodes it as
 * map[string]string. `operation_id` is added when the response is written.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly errorCode: string | undefined;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    msg: string,
    errorCode?: string,
    headers: Record<string, string> = {},
  ) {
    super(msg);
    this.name = 'ApiError';
    this.status = status;
    this.errorCode = errorCode;
    this.headers = headers;
  }
}

/** A 400 with the given `ERR_NGROK_<code>`. */
export function badRequest(code: number, msg: string): ApiError {
  return new ApiError(400, msg, `ERR_NGROK_${code}`);
}

export function notFound(msg = 'Resource not found', errorCode?: string): ApiError {
  return new ApiError(404, msg, errorCode);
}

export function errorBody(
  error: ApiError,
  operationId: string,
): { error_code?: string; status_code: number; msg: string; details: Record<string, string> } {
  return {
    ...(error.errorCode ? { error_code: error.errorCode } : {}),
    status_code: error.status,
    msg: error.message,
    details: { operation_id: operationId },
  };
}
