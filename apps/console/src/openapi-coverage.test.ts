/**
 * The console uses the public API only: every `/v1/...` path its source requests is a path of the
 * OpenAPI document the gateway serves (a console request missing from the document fails here).
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '@codestep/gateway-service';

const web = join(dirname(fileURLToPath(import.meta.url)), 'web');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

/** The API paths the console's source names, with each `${...}` segment as a parameter. */
function consolePaths(): Set<string> {
  const out = new Set<string>();
  for (const file of sources(web)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/['`](\/v1\/[^'`?]*)/g)) {
      const path = m[1]!
        // A whole segment is a parameter; a `${...}` glued to a segment is a query string.
        .replace(/\/\$\{[^}]*\}/g, '/{param}')
        .replace(/\$\{[^}]*\}/g, '')
        .replace(/\/$/, '');
      out.add(path);
    }
  }
  return out;
}

describe("the console's requests", () => {
  it('are all in the OpenAPI document', () => {
    const documented = Object.keys((openApiDocument('http://x') as { paths: Record<string, unknown> }).paths).map((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`));
    const paths = consolePaths();
    assert.ok(paths.size >= 10, `found the console's requests (${[...paths].join(', ')})`);
    const missing = [...paths].filter((p) => !documented.some((re) => re.test(p.replace(/\{param\}/g, 'x'))));
    assert.deepEqual(missing, [], 'console requests missing from GET /openapi.json');
  });
});
