/**
 * The ngrok API client this project's functions use: the five Event Streams operations of the
 * seed's `EventStreamsClient` (create, get, list, update, delete), plus get and list of Event
 * Destinations. Wire field names (snake_case) throughout, as in docs/ngrok-api.md.
 *
 * @example
 * const ngrok = new NgrokClient({ apiKey });
 * const deadline = Date.now() + context.getRemainingTimeInMillis() - 500;
 * const stream = await ngrok.eventStreams.update('es_…', { sampling_rate: 0.1 }, { deadline });
 */
import { settings } from '../settings.ts';
import { NgrokInvalidIdError } from './errors.ts';
import {
  EVENT_DESTINATION_ID,
  EVENT_STREAM_ID,
  EventDestination,
  EventDestinationList,
  EventStream,
  EventStreamCreate,
  EventStreamList,
  EventStreamUpdate,
  type PageRequest,
} from './schemas.ts';
import {
  type CallOptions,
  DEFAULT_RETRY_POLICY,
  exchange,
  type RetryPolicy,
  type TransportConfig,
} from './transport.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
const USER_AGENT = 'ngrok-event-streams-automation/0.1';

export interface NgrokClientOptions {
  apiKey: string;
  /** Default: NGROK_API_URL, else https://api.ngrok.com (lib/settings.ts). A path prefix is kept. */
  baseUrl?: string;
  /** The deadline of a call that names none. Default 10 s. */
  defaultTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** An undici dispatcher of your own; default: one keep-alive pool per container. */
  dispatcher?: TransportConfig['dispatcher'];
}

/** Copies only the keys that are set: a PATCH sends only the fields given (never `null`). */
function definedFields<T extends object>(
  input: T,
  keys: readonly (keyof T & string)[],
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const key of keys) {
    if (input[key] !== undefined && input[key] !== null) body[key] = input[key];
  }
  return body;
}

/** The id as a path segment, once it is known to be letters and digits after its prefix. */
function idSegment(id: string, shape: RegExp, operation: string, kind: string): string {
  if (typeof id !== 'string' || !shape.test(id)) throw new NgrokInvalidIdError(operation, kind);
  return encodeURIComponent(id);
}

function pageQuery(page: PageRequest): Record<string, string | undefined> {
  return {
    before_id: page.before_id,
    limit: page.limit === undefined ? undefined : String(page.limit),
  };
}

/** The fields a create or an update may send: the keys of their wire schemas, nothing else. */
const CREATE_FIELDS = Object.keys(EventStreamCreate.shape) as (keyof EventStreamCreate)[];
const UPDATE_FIELDS = Object.keys(EventStreamUpdate.shape) as (keyof EventStreamUpdate)[];

export class EventStreamsClient {
  readonly #config: TransportConfig;

  constructor(config: TransportConfig) {
    this.#config = config;
  }

  /** `POST /event_streams` → the new stream. */
  async create(input: EventStreamCreate, options?: CallOptions): Promise<EventStream> {
    const body = definedFields(input, CREATE_FIELDS);
    return (await exchange(
      this.#config,
      {
        operation: 'event_streams.create',
        method: 'POST',
        path: '/event_streams',
        body,
        response: EventStream,
      },
      options,
    )) as EventStream;
  }

  /** `GET /event_streams/{id}`. */
  async get(id: string, options?: CallOptions): Promise<EventStream> {
    const operation = 'event_streams.get';
    const path = `/event_streams/${idSegment(id, EVENT_STREAM_ID, operation, 'Event Stream')}`;
    return (await exchange(
      this.#config,
      { operation, method: 'GET', path, response: EventStream },
      options,
    )) as EventStream;
  }

  /** `GET /event_streams?before_id=&limit=`: one page, newest first. */
  async list(page: PageRequest = {}, options?: CallOptions): Promise<EventStreamList> {
    return (await exchange(
      this.#config,
      {
        operation: 'event_streams.list',
        method: 'GET',
        path: '/event_streams',
        query: pageQuery(page),
        response: EventStreamList,
      },
      options,
    )) as EventStreamList;
  }

  /**
   * Every stream, newest first, page after page. `options.deadline` bounds the whole walk.
   * `beforePage`, if given, is awaited before each page is asked for (0 for the first): a
   * pacer's turn, say; what it throws ends the walk there.
   */
  async *listAll(
    page: Omit<PageRequest, 'before_id'> = {},
    options?: CallOptions,
    beforePage?: (index: number) => unknown,
  ): AsyncGenerator<EventStream> {
    let beforeId: string | undefined;
    for (let index = 0; ; index++) {
      await beforePage?.(index);
      const { event_streams, next_page_uri } = await this.list(
        { ...page, before_id: beforeId },
        options,
      );
      yield* event_streams;
      const last = event_streams.at(-1);
      // Pages are asked for by the last id seen rather than by following `next_page_uri`, so
      // the API key is never sent to a host named in a response.
      if (next_page_uri === null || last === undefined) return;
      beforeId = last.id;
    }
  }

  /** `PATCH /event_streams/{id}` with only the fields given → the updated stream. */
  async update(id: string, input: EventStreamUpdate, options?: CallOptions): Promise<EventStream> {
    const operation = 'event_streams.update';
    const path = `/event_streams/${idSegment(id, EVENT_STREAM_ID, operation, 'Event Stream')}`;
    const body = definedFields(input, UPDATE_FIELDS);
    return (await exchange(
      this.#config,
      { operation, method: 'PATCH', path, body, response: EventStream },
      options,
    )) as EventStream;
  }

  /** `DELETE /event_streams/{id}` (204). */
  async delete(id: string, options?: CallOptions): Promise<void> {
    const operation = 'event_streams.delete';
    const path = `/event_streams/${idSegment(id, EVENT_STREAM_ID, operation, 'Event Stream')}`;
    await exchange(this.#config, { operation, method: 'DELETE', path, expectStatus: 204 }, options);
  }
}

export class EventDestinationsClient {
  readonly #config: TransportConfig;

  constructor(config: TransportConfig) {
    this.#config = config;
  }

  /** `GET /event_destinations/{id}`. */
  async get(id: string, options?: CallOptions): Promise<EventDestination> {
    const operation = 'event_destinations.get';
    const path = `/event_destinations/${idSegment(id, EVENT_DESTINATION_ID, operation, 'Event Destination')}`;
    return (await exchange(
      this.#config,
      { operation, method: 'GET', path, response: EventDestination },
      options,
    )) as EventDestination;
  }

  /** `GET /event_destinations?before_id=&limit=`: one page, newest first. */
  async list(page: PageRequest = {}, options?: CallOptions): Promise<EventDestinationList> {
    return (await exchange(
      this.#config,
      {
        operation: 'event_destinations.list',
        method: 'GET',
        path: '/event_destinations',
        query: pageQuery(page),
        response: EventDestinationList,
      },
      options,
    )) as EventDestinationList;
  }
}

export class NgrokClient {
  readonly eventStreams: EventStreamsClient;
  readonly eventDestinations: EventDestinationsClient;

  constructor(options: NgrokClientOptions) {
    const baseUrl = options.baseUrl ?? settings.ngrokApiUrl();
    if (!/^https?:\/\/[^/]/.test(baseUrl)) {
      throw new TypeError(`The ngrok API URL must be an http(s) URL; got '${baseUrl}'.`);
    }
    if (options.apiKey === '') throw new TypeError('The ngrok API key is empty.');
    const config: TransportConfig = {
      apiKey: options.apiKey,
      baseUrl,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      defaultTimeoutMs: options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      userAgent: USER_AGENT,
      dispatcher: options.dispatcher,
    };
    this.eventStreams = new EventStreamsClient(config);
    this.eventDestinations = new EventDestinationsClient(config);
  }
}
