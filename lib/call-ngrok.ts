/**
 * A call to the ngrok API from inside a Lambda: with the key from the service's secret, a
 * deadline from the Lambda's remaining time, each exchange reported to the request line, and one
 * retry with a freshly read secret when ngrok refuses the key (it may have been rotated since
 * this container cached it).
 */
import { NgrokClient } from './ngrok/client.ts';
import { NgrokApiError } from './ngrok/errors.ts';
import type { CallOptions, CallReport } from './ngrok/transport.ts';
import { loadServiceSecret, type ServiceSecret } from './secrets/service-secret.ts';
import { settings } from './settings.ts';

/** Time kept back from the Lambda's deadline to write the answer. */
const RESPONSE_MARGIN_MS = 300;

export interface NgrokCallContext {
  serviceSecret: ServiceSecret;
  getRemainingTimeInMillis(): number;
  /** Where each exchange with ngrok is reported (the request line). */
  record?: { ngrokCalls: CallReport[] };
}

let cachedClient: { apiKey: string; baseUrl: string | undefined; client: NgrokClient } | undefined;

/** One client per container and key: its connection settings are worked out once. */
function clientFor(apiKey: string): NgrokClient {
  const baseUrl = settings.ngrokApiUrl();
  if (cachedClient?.apiKey !== apiKey || cachedClient.baseUrl !== baseUrl) {
    cachedClient = { apiKey, baseUrl, client: new NgrokClient({ apiKey, baseUrl }) };
  }
  return cachedClient.client;
}

export async function callNgrok<T>(
  context: NgrokCallContext,
  call: (ngrok: NgrokClient, options: CallOptions) => Promise<T>,
): Promise<T> {
  const options: CallOptions = {
    deadline: Date.now() + context.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS,
    onCallEnd: (report) => context.record?.ngrokCalls.push(report),
  };
  try {
    return await call(clientFor(context.serviceSecret.ngrok_api_key), options);
  } catch (error) {
    if (!(error instanceof NgrokApiError && error.status === 401)) throw error;
    const fresh = await loadServiceSecret({ refresh: true });
    if (fresh.ngrok_api_key === context.serviceSecret.ngrok_api_key) throw error;
    context.serviceSecret = fresh;
    return call(clientFor(fresh.ngrok_api_key), options);
  }
}
