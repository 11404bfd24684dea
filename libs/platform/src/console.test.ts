import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { consoleStale } from './console.ts';

describe('whether the embedded console must be built', () => {
  const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

  /** A build in dist/ made at t=1000 s, and sources (a directory tree and a script) older than it. */
  function checkout() {
    const root = mkdtempSync(join(tmpdir(), 'codestep-console-'));
    const dist = join(root, 'dist');
    const web = join(root, 'src/web');
    const views = join(web, 'views');
    mkdirSync(dist, { recursive: true });
    mkdirSync(views, { recursive: true });
    const script = join(root, 'src/build.ts');
    const view = join(views, 'history.tsx');
    for (const [file, t] of [
      [view, 500],
      [join(web, 'main.tsx'), 500],
      [script, 500],
      [join(dist, 'index.html'), 1000],
    ] as const) {
      writeFileSync(file, 'x');
      at(file, t);
    }
    for (const dir of [views, web]) at(dir, 500);
    return { root, dist, sources: [web, script], view, views, script };
  }

  it('is not when every source is older than the build', (t) => {
    const c = checkout();
    t.after(() => rmSync(c.root, { recursive: true, force: true }));
    assert.equal(consoleStale(c.dist, c.sources), false);
  });

  it('is when there is no build', (t) => {
    const c = checkout();
    t.after(() => rmSync(c.root, { recursive: true, force: true }));
    rmSync(join(c.dist, 'index.html'));
    assert.equal(consoleStale(c.dist, c.sources), true);
  });

  it('is when a source deep in the tree, the build script, or a directory (a file removed) is newer than the build', (t) => {
    const c = checkout();
    t.after(() => rmSync(c.root, { recursive: true, force: true }));
    at(c.view, 2000);
    assert.equal(consoleStale(c.dist, c.sources), true, 'a view changed by a pull');
    at(c.view, 500);
    at(c.script, 2000);
    assert.equal(consoleStale(c.dist, c.sources), true, 'the build script changed');
    at(c.script, 500);
    at(c.views, 2000);
    assert.equal(consoleStale(c.dist, c.sources), true, 'a file removed from a directory');
  });
});
