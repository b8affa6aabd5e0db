/**
 * The HTTP API's routes, as the function files declare them (scripts/routes.ts): the tests'
 * route tables are made from this list, so that a new route is tested without being added here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type DeclaredRoute, declaredRoutes } from '../../scripts/routes.ts';
import { ROOT } from './local-stack.ts';

export const ROUTES: readonly DeclaredRoute[] = declaredRoutes(ROOT, require);

/** The routes callers reach with a bearer token (all but Slack's and the public ones). */
export const BEARER_ROUTES = ROUTES.filter(
  (route) => route.auth !== 'none' && 'bearer' in route.auth,
);

/** `METHOD /path`, as API Gateway names a route. */
export const routeKey = (route: { method: string; path: string }) =>
  `${route.method} ${route.path}`;

/**
 * A function's sample event (events/<function>.json: the sandbox's sample ids, a valid body),
 * with `token` in place of its own. Its ids exist where the sandbox's samples are seeded
 * (`seedSamples`).
 */
export function sampleEvent(functionName: string, token: string): APIGatewayProxyEventV2 {
  const event = JSON.parse(
    readFileSync(join(ROOT, 'events', `${functionName}.json`), 'utf8'),
  ) as APIGatewayProxyEventV2;
  if (event.headers?.authorization !== undefined) {
    event.headers.authorization = `Bearer ${token}`;
  }
  return event;
}
