/**
 * The HTTP API's routes, as each function file declares them (`handler.route`, lib/http/route.ts):
 * the one list that the OpenAPI document (`npm run generate`) and the tests' route tables are
 * made from. Which functions serve a route is serverless.yml's `httpApi` events — what API
 * Gateway, and the local stand-in for it (scripts/gateway.ts), route by; a test checks that each
 * function declares exactly the route serverless.yml gives it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { RouteDeclaration } from '../lib/http/route.ts';

export interface ServerlessRoute {
  /** The function's name in serverless.yml, e.g. `getEventStream`. */
  function: string;
  method: string;
  path: string;
}

interface ServerlessFunction {
  handler?: string;
  events?: { httpApi?: { method?: string; path?: string } }[];
}

function serverlessFunctions(root: string): Record<string, ServerlessFunction> {
  // CloudFormation's tags (!GetAtt, !Sub) stay unresolved: only functions and events are read.
  const config = parse(readFileSync(join(root, 'serverless.yml'), 'utf8'), {
    logLevel: 'error',
  }) as { functions?: Record<string, ServerlessFunction> };
  return config.functions ?? {};
}

/** Every function serverless.yml declares, HTTP or not. */
export function serverlessFunctionNames(root: string): string[] {
  return Object.keys(serverlessFunctions(root));
}

/** Every `httpApi` event of serverless.yml, with its function. */
export function serverlessRoutes(root: string): ServerlessRoute[] {
  return Object.entries(serverlessFunctions(root)).flatMap(([name, fn]) =>
    (fn.events ?? []).flatMap((event) =>
      event.httpApi?.method && event.httpApi.path
        ? [{ function: name, method: event.httpApi.method.toUpperCase(), path: event.httpApi.path }]
        : [],
    ),
  );
}

export interface DeclaredRoute extends RouteDeclaration {
  function: string;
  /** The function's handler, for tests that invoke it. */
  handler: unknown;
}

/**
 * The route each HTTP function declares, in serverless.yml's order. `load` is a `require` that
 * takes TypeScript (jest's, or Node 24's): the function files are loaded, not bundled.
 */
export function declaredRoutes(root: string, load: (file: string) => unknown): DeclaredRoute[] {
  const names = [...new Set(serverlessRoutes(root).map((route) => route.function))];
  return names.map((name) => {
    const { handler } = load(join(root, 'functions', `${name}.ts`)) as {
      handler?: { route?: RouteDeclaration };
    };
    if (!handler?.route) {
      throw new Error(
        `functions/${name}.ts serves an httpApi route but declares none (handler.route).`,
      );
    }
    return { ...handler.route, function: name, handler };
  });
}
