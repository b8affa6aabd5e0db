/**
 * `npm run generate`: writes the files generated from the zod schemas — openapi.json (the HTTP
 * API, lib/openapi/document.ts) and sampling-schedule.schema.json (the policy file's JSON Schema,
 * for editors). `npm run generate -- --check` exits 1 if a committed file is not what the
 * schemas give.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../lib/openapi/document.ts';
import { policyJsonSchema } from '../lib/sampling/policy.ts';
import { declaredRoutes } from './routes.ts';

const root = new URL('..', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
const routes = declaredRoutes(fileURLToPath(root), createRequire(import.meta.url));

export const GENERATED: Record<string, unknown> = {
  'openapi.json': openApiDocument(version, routes),
  'sampling-schedule.schema.json': policyJsonSchema(),
};

const check = process.argv.includes('--check');
let stale = 0;
for (const [file, content] of Object.entries(GENERATED)) {
  const text = `${JSON.stringify(content, null, 2)}\n`;
  const url = new URL(file, root);
  if (!check) {
    writeFileSync(url, text);
    console.log(`Wrote ${file}.`);
  } else if (readFileSync(url, 'utf8') !== text) {
    console.error(`${file} is out of date: run \`npm run generate\` and commit it.`);
    stale++;
  }
}
if (check && stale === 0) console.log('The generated files match the schemas.');
process.exit(stale > 0 ? 1 : 0);
