/**
 * The sandbox is written from docs/ngrok-api.md, not from lib/ngrok, so a misreading
 * of the wire in one cannot hide in the other; and nothing shipped imports the sandbox.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

function importsOf(directory: string): { file: string; specifier: string }[] {
  return readdirSync(join(root, directory), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) => {
      const source = readFileSync(join(root, directory, file), 'utf8');
      return [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => ({
        file: join(directory, file),
        specifier: match[1] as string,
      }));
    });
}

describe('Module boundaries', () => {
  it('the sandbox imports only Node built-ins and its own files', () => {
    const outside = importsOf('sandbox').filter(
      ({ specifier }) => !specifier.startsWith('node:') && !specifier.startsWith('./'),
    );

    expect(outside).toEqual([]);
  });

  it('lib/ never imports the sandbox or the tests', () => {
    const leaks = importsOf('lib').filter(({ specifier }) => /sandbox|test\//.test(specifier));

    expect(leaks).toEqual([]);
  });
});
