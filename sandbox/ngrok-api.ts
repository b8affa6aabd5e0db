/**
 * The ten Event Streams and Event Destinations operations over in-memory state
 * (docs/ngrok-api.md §2, §3): newest first, `before_id`/`limit` paging, absolute `uri` and
 * `next_page_uri` on the origin the request came to, referential integrity between the two.
 */
import { ApiError, badRequest, notFound } from './api-error.ts';
import { isWellFormedId, newId } from './ids.ts';
import {
  createEventDestination,
  createEventStream,
  type EventDestinationRecord,
  type EventStreamRecord,
  isRequestBody,
  renderEventDestination,
  renderEventStream,
  updateEventDestination,
  updateEventStream,
} from './resources.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 100;

export interface ApiRequest {
  method: string;
  /** The path with the collection and optional id, e.g. `/event_streams/es_…`. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  /** `http://host:port` as the caller addressed us. */
  origin: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
}

export class NgrokState {
  readonly streams = new Map<string, EventStreamRecord>();
  readonly destinations = new Map<string, EventDestinationRecord>();

  reset(): void {
    this.streams.clear();
    this.destinations.clear();
  }

  createStream(body: unknown, id = newId('es')): EventStreamRecord {
    const stream = createEventStream(id, asBody(body), this.destinations);
    this.streams.set(stream.id, stream);
    return stream;
  }

  createDestination(body: unknown, id = newId('ed')): EventDestinationRecord {
    const destination = createEventDestination(id, asBody(body));
    this.destinations.set(destination.id, destination);
    return destination;
  }
}

function asBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (!isRequestBody(body)) throw badRequest(213, 'The request body must be a JSON object.');
  return body;
}

interface Collection<T extends { id: string }> {
  name: 'event_streams' | 'event_destinations';
  prefix: 'es' | 'ed';
  label: string;
  items: Map<string, T>;
  create(body: unknown): T;
  update(item: T, body: Record<string, unknown>): T;
  beforeDelete(item: T): void;
  render(item: T, origin: string): unknown;
}

function collections(state: NgrokState): Collection<{ id: string }>[] {
  const streams: Collection<EventStreamRecord> = {
    name: 'event_streams',
    prefix: 'es',
    label: 'Event Stream',
    items: state.streams,
    create: (body) => state.createStream(body),
    update: (stream, body) => updateEventStream(stream, body, state.destinations),
    beforeDelete: () => {},
    render: renderEventStream,
  };
  const destinations: Collection<EventDestinationRecord> = {
    name: 'event_destinations',
    prefix: 'ed',
    label: 'Event Destination',
    items: state.destinations,
    create: (body) => state.createDestination(body),
    update: updateEventDestination,
    beforeDelete: (destination) => {
      for (const stream of state.streams.values()) {
        if (stream.destination_ids.includes(destination.id)) {
          throw badRequest(
            5112,
            `The Event Destination ${destination.id} cannot be deleted because it is still in use by at least one Event Stream.`,
          );
        }
      }
    },
    render: renderEventDestination,
  };
  return [streams, destinations] as Collection<{ id: string }>[];
}

function find<T extends { id: string }>(collection: Collection<T>, id: string): T {
  if (!isWellFormedId(id, collection.prefix)) {
    throw notFound(
      `The ${collection.label} resource identified by '${id}' could not be found because the identifier is not a valid identifier.`,
      'ERR_NGROK_227',
    );
  }
  const item = collection.items.get(id);
  if (item === undefined) throw notFound();
  return item;
}

function list<T extends { id: string }>(
  collection: Collection<T>,
  query: URLSearchParams,
  origin: string,
): ApiResponse {
  for (const key of query.keys()) {
    if (key !== 'before_id' && key !== 'limit') {
      throw badRequest(231, `The query parameter '${key}' is not known.`);
    }
  }
  const limitText = query.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== null && limitText !== '') {
    limit = /^[0-9]+$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MAX_LIMIT)) {
      throw badRequest(233, `'limit' must be between 1 and ${MAX_LIMIT}; got '${limitText}'.`);
    }
  }
  const beforeId = query.get('before_id') || undefined;
  const newestFirst = [...collection.items.values()]
    .filter((item) => beforeId === undefined || item.id < beforeId)
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  const page = newestFirst.slice(0, limit);
  const last = page.at(-1);
  const collectionUri = `${origin}/${collection.name}`;
  let nextPageUri: string | null = null;
  if (last !== undefined && newestFirst.length > page.length) {
    const next = new URLSearchParams({ before_id: last.id });
    if (limitText) next.set('limit', limitText);
    nextPageUri = `${collectionUri}?${next}`;
  }
  return {
    status: 200,
    body: {
      [collection.name]: page.map((item) => collection.render(item, origin)),
      uri: collectionUri,
      next_page_uri: nextPageUri,
    },
  };
}

/** Routes one authenticated request; throws `ApiError` for every failure. */
export function handleApiRequest(state: NgrokState, request: ApiRequest): ApiResponse {
  const [, name, id, ...rest] = request.path.split('/');
  const collection = collections(state).find((candidate) => candidate.name === name);
  if (collection === undefined || rest.length > 0 || id === '') throw notFound();
  const { method, origin } = request;

  if (id === undefined) {
    if (method === 'GET') return list(collection, request.query, origin);
    if (method === 'POST') {
      return { status: 201, body: collection.render(collection.create(request.body), origin) };
    }
    throw methodNotAllowed(method);
  }

  const item = find(collection, decodeId(id));
  switch (method) {
    case 'GET':
      return { status: 200, body: collection.render(item, origin) };
    case 'PATCH': {
      const updated = collection.update(item, asBody(request.body));
      collection.items.set(updated.id, updated);
      return { status: 200, body: collection.render(updated, origin) };
    }
    case 'DELETE':
      collection.beforeDelete(item);
      collection.items.delete(item.id);
      return { status: 204 };
    default:
      throw methodNotAllowed(method);
  }
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, `The method ${method} is not allowed on this resource.`);
}

function decodeId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw notFound();
  }
}
