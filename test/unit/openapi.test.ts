/**
 * openapi.json is what the zod schemas give, is a valid OpenAPI 3.1 document (checked by a kept
 * validator), documents every route serverless.yml declares and every status of
 * docs/http-api.md, and is what `GET /openapi.json` serves.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { handler as getOpenApi } from '../../functions/getOpenApi.ts';
import { ERROR_STATUSES, openApiDocument } from '../../lib/openapi/document.ts';
import { apiEvent, invoke } from '../helpers/lambda.ts';

const ROOT = join(__dirname, '..', '..');
const committed = JSON.parse(readFileSync(join(ROOT, 'openapi.json'), 'utf8'));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('openapi.json', () => {
  it('is exactly what the schemas give (run `npm run generate` after changing them)', () => {
    expect(readFileSync(join(ROOT, 'openapi.json'), 'utf8')).toBe(
      `${JSON.stringify(openApiDocument(version), null, 2)}\n`,
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
    const yml = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');
    const declared = [...yml.matchAll(/method: (\w+)\n\s+path: (\S+)/g)].map(
      ([, method, path]) => `${method?.toLowerCase()} ${path}`,
    );
    const documented = Object.entries(committed.paths).flatMap(([path, methods]) =>
      Object.keys(methods as object).map((method) => `${method} ${path}`),
    );

    expect(documented.sort()).toEqual(declared.sort());
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
