/**
 * `npm run openapi`: writes openapi.json from the zod schemas (lib/openapi/document.ts).
 * `npm run openapi -- --check` exits 1 if the committed file is not what the schemas give.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { openApiDocument } from '../lib/openapi/document.ts';

export const OPENAPI_FILE = new URL('../openapi.json', import.meta.url);

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const text = `${JSON.stringify(openApiDocument(version), null, 2)}\n`;

if (process.argv.includes('--check')) {
  const committed = readFileSync(OPENAPI_FILE, 'utf8');
  if (committed !== text) {
    console.error('openapi.json is out of date: run `npm run openapi` and commit it.');
    process.exit(1);
  }
  console.log('openapi.json matches the schemas.');
} else {
  writeFileSync(OPENAPI_FILE, text);
  console.log('Wrote openapi.json.');
}
