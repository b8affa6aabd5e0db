/**
 * openapi.json is what the zod schemas give, is a valid OpenAPI 3.1 document (checked by a kept
 * validator), documents every route serverless.yml declares and every status of
 * docs/http-api.md, and is what `GET /openapi.json` serves.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handler as getOpenApi } from '../../functions/getOpenApi.ts';
import { PROBLEM_KINDS } from '../../lib/http/problem.ts';
import { ERROR_STATUSES, openApiDocument } from '../../lib/openapi/document.ts';
import { serverlessRoutes } from '../../scripts/routes.ts';
import { apiEvent, invoke } from '../helpers/lambda.ts';
import { ROUTES } from '../helpers/routes.ts';

const ROOT = join(__dirname, '..', '..');
const committed = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8'));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('openapi.json', () => {
  it('is exactly what the schemas give (run `npm run generate` after changing them)', () => {
    expect(readFileSync(join(ROOT, 'openapi.json'), 'utf8')).toBe(
      `${JSON.stringify(openApiDocument(version, ROUTES), null, 2)}\n`,
    );
  });

  it('validates as OpenAPI 3.1', () => {
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/@seriousme/openapi-schema-validator/bin/validate-api-cli.js'),
        join(ROOT, 'openapi.json'),
      ],
      { encoding: 'utf8' },
    );

    expect(JSON.parse(run.stdout)).toEqual({ valid: true });
    expect(committed.openapi).toBe('3.1.0');
  });

  it('documents every route of serverless.yml, and no other', () => {
    const declared = serverlessRoutes(ROOT).map(
      (route) => `${route.method.toLowerCase()} ${route.path}`,
    );
    const documented = Object.entries(committed.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((method) => `${method} ${path}`),
    );

    expect(documented.sort()).toEqual(declared.sort());
  });

  it("serves each route of serverless.yml by the function that declares it, and each function's declaration by serverless.yml", () => {
    const deployed = serverlessRoutes(ROOT).map((route) => ({
      function: route.function,
      route: `${route.method} ${route.path}`,
    }));
    const declared = ROUTES.map((route) => ({
      function: route.function,
      route: `${route.method} ${route.path}`,
    }));

    expect(declared).toEqual(deployed);
    // A function's operation is its name in serverless.yml (metrics, OpenAPI operationId).
    for (const route of ROUTES) expect(route.operation).toBe(route.function);
  });

  it('lists every problem kind of the catalogue, under its status', () => {
    for (const [kind, { status }] of Object.entries(PROBLEM_KINDS)) {
      expect(committed.components.responses[`Problem${status}`].description).toContain(
        `\`${kind}\``,
      );
    }
  });

  it('has the problem+json shape and every status of the table in docs/http-api.md', () => {
    const readme = readFileSync(join(ROOT, 'docs', 'http-api.md'), 'utf8');
    const readmeStatuses = [...readme.matchAll(/^\| (\d{3}) \| /gm)].map(([, status]) => status);

    expect(readmeStatuses.length).toBeGreaterThan(5);
    for (const status of readmeStatuses) {
      expect(committed.components.responses[`Problem${status}`]).toBeDefined();
    }
    expect(Object.keys(ERROR_STATUSES).sort()).toEqual([...new Set(readmeStatuses)].sort());
    expect(committed.components.schemas.Problem.required).toEqual([
      'type',
      'title',
      'status',
      'detail',
    ]);
    expect(committed.paths['/event-streams/{id}'].patch.responses['404']).toEqual({
      $ref: '#/components/responses/Problem404',
    });
  });

  it('is served by GET /openapi.json with no token', async () => {
    const answer = await invoke(getOpenApi, apiEvent({ method: 'GET', route: '/openapi.json' }));

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    expect(answer.json).toEqual(committed);
  });
});
