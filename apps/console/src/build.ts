#!/usr/bin/env node
/**
 * Builds the console to static files in apps/console/dist: one ES module entry (Preact, the views)
 * and the editor (CodeMirror 6) as a chunk loaded on demand, hashed names under assets/, each with
 * a gzip twin the gateway sends to clients that accept it, and index.html pointing at them.
 *   node apps/console/src/build.ts              build
 *   node apps/console/src/build.ts --if-missing build only when dist/index.html is absent
 *   node apps/console/src/build.ts --report     build and print the first load's compressed size
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CONSOLE_DIST = join(appDir, 'dist');

export interface ConsoleBuild {
  dir: string;
  /** Gzip bytes of the JavaScript the first page load fetches (the entry and its static imports). */
  firstLoadGzipBytes: number;
  /** Gzip bytes of the editor chunk(s), fetched when an action's code is opened. */
  editorGzipBytes: number;
}

export async function buildConsole(outDir = CONSOLE_DIST): Promise<ConsoleBuild> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'assets'), { recursive: true });
  const result = await build({
    absWorkingDir: appDir,
    entryPoints: { main: 'src/web/main.tsx', styles: 'src/web/styles.css' },
    bundle: true,
    splitting: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: join(outDir, 'assets'),
    entryNames: '[name]-[hash]',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  const outputs = result.metafile.outputs;
  const entryOf = (source: string) => Object.entries(outputs).find(([, o]) => o.entryPoint === source)?.[0];
  const mainJs = entryOf('src/web/main.tsx');
  const css = Object.keys(outputs).find((p) => p.endsWith('.css'));
  if (!mainJs || !css) throw new Error('console build: the entry or the stylesheet is missing from the output');
  const url = (p: string) => '/' + relative(outDir, join(appDir, p)).split('\\').join('/');
  const html = (await readFile(join(appDir, 'src/web/index.html'), 'utf8')).replace('%CSS%', url(css)).replace('%MAIN%', url(mainJs));
  await writeFile(join(outDir, 'index.html'), html);
  for (const name of await readdir(join(outDir, 'assets'))) {
    if (!/\.(js|css)$/.test(name)) continue;
    const file = join(outDir, 'assets', name);
    await writeFile(file + '.gz', gzipSync(await readFile(file), { level: 9 }));
  }
  await writeFile(join(outDir, 'index.html.gz'), gzipSync(html, { level: 9 }));
  const firstLoad = staticClosure(result.metafile, mainJs);
  const all = Object.keys(outputs).filter((p) => p.endsWith('.js') && !p.includes('styles-'));
  const gz = async (p: string) => (await readFile(join(appDir, p) + '.gz')).length;
  let firstLoadGzipBytes = 0;
  for (const p of firstLoad) firstLoadGzipBytes += await gz(p);
  let editorGzipBytes = 0;
  for (const p of all.filter((q) => !firstLoad.has(q))) editorGzipBytes += await gz(p);
  return { dir: outDir, firstLoadGzipBytes, editorGzipBytes };
}

/** The entry and every chunk it imports statically (what the browser fetches before any dynamic import). */
function staticClosure(meta: Metafile, entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (p: string) => {
    if (seen.has(p)) return;
    seen.add(p);
    for (const i of meta.outputs[p]?.imports ?? []) if (i.kind === 'import-statement') visit(i.path);
  };
  visit(entry);
  return seen;
}

export function consoleBuilt(dir = CONSOLE_DIST): boolean {
  return existsSync(join(dir, 'index.html'));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args.includes('--if-missing') && consoleBuilt()) process.exit(0);
  // Built aside and renamed into place: a gateway serving dist, or a second build started at the same time, never sees half a build.
  const tmp = `${CONSOLE_DIST}.tmp-${process.pid}`;
  const out = await buildConsole(tmp);
  await rm(`${CONSOLE_DIST}.old-${process.pid}`, { recursive: true, force: true });
  if (existsSync(CONSOLE_DIST)) await rename(CONSOLE_DIST, `${CONSOLE_DIST}.old-${process.pid}`).catch(() => undefined);
  await rename(tmp, CONSOLE_DIST).catch(async () => rm(tmp, { recursive: true, force: true }));
  await rm(`${CONSOLE_DIST}.old-${process.pid}`, { recursive: true, force: true });
  out.dir = CONSOLE_DIST;
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  process.stdout.write(`console built in ${relative(process.cwd(), out.dir) || '.'}: first load ${kb(out.firstLoadGzipBytes)} of gzip JavaScript, editor ${kb(out.editorGzipBytes)} more on demand\n`);
}
