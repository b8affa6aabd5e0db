/**
 * Tests talk to a real sandbox over loopback HTTP: one per test file, reset before each test
 * through its control surface, with the sample Event Destinations seeded.
 */
import type { Fault } from '../../sandbox/faults.ts';
import {
  type RequestLogEntry,
  type Sandbox,
  type SandboxOptions,
  sampleDestinations,
  startSandbox,
} from '../../sandbox/server.ts';
import { registerSecret } from './logs.ts';

export interface SandboxContext {
  sandbox: Sandbox;
  url: string;
  apiKey: string;
  /** The seeded Event Destinations, newest last. */
  destinationIds: string[];
}

/** Calls the sandbox's control surface (`/_sandbox/...`) and returns its JSON answer. */
export async function control<T = Record<string, unknown>>(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${url}/_sandbox${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (!response.ok)
    throw new Error(`control ${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

export function injectFault(url: string, fault: Partial<Fault> & { path: string }) {
  return control(url, 'POST', '/faults', fault);
}

export async function requestLog(url: string): Promise<RequestLogEntry[]> {
  return (await control<{ requests: RequestLogEntry[] }>(url, 'GET', '/requests')).requests;
}

/** Seeds Event Streams on the given destination and returns their ids, oldest first. */
export async function seedStreams(
  url: string,
  destinationId: string,
  count: number,
): Promise<string[]> {
  const event_streams = Array.from({ length: count }, (_, index) => ({
    description: `stream ${index}`,
    event_type: 'http_request_complete',
    destination_ids: [destinationId],
    sampling_rate: 1,
  }));
  return (await control<{ event_streams: string[] }>(url, 'POST', '/seed', { event_streams }))
    .event_streams;
}

export function useSandbox(options: SandboxOptions = { rateLimit: false }): SandboxContext {
  const context = {} as SandboxContext;
  beforeAll(async () => {
    context.sandbox = await startSandbox(options);
    context.url = context.sandbox.url;
    context.apiKey = context.sandbox.apiKey;
    registerSecret(context.apiKey);
  });
  afterAll(() => context.sandbox.close());
  beforeEach(async () => {
    await control(context.url, 'POST', '/reset');
    const seeded = await control<{ event_destinations: string[] }>(context.url, 'POST', '/seed', {
      event_destinations: sampleDestinations(),
    });
    context.destinationIds = seeded.event_destinations;
    await control(context.url, 'DELETE', '/requests');
  });
  return context;
}

/** A stream's sampling_rate as the sandbox's ngrok API has it now. */
export async function streamRate(context: SandboxContext, id: string): Promise<number> {
  const response = await fetch(`${context.url}/event_streams/${id}`, {
    headers: { authorization: `Bearer ${context.apiKey}`, 'ngrok-version': '2' },
  });
  return ((await response.json()) as { sampling_rate: number }).sampling_rate;
}
