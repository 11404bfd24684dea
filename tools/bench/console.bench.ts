/**
 * The web console's first load: the gzip bytes of the JavaScript a browser fetches before the code
 * editor is opened (the entry and its static imports), against the budget of 300 KB, and
 * the editor's chunks fetched on demand. Builds into a temporary directory (dist is left alone).
 *   node tools/bench/console.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../apps/console/src/build.ts';

const BUDGET = 300 * 1024;
const dir = join(mkdtempSync(join(tmpdir(), 'console-bench-')), 'dist');
const started = performance.now();
const out = await buildConsole(dir);
const buildMs = Math.round(performance.now() - started);
rmSync(join(dir, '..'), { recursive: true, force: true });
const kb = (n: number) => Number((n / 1024).toFixed(1));
const report = { firstLoadGzipKB: kb(out.firstLoadGzipBytes), budgetKB: kb(BUDGET), withinBudget: out.firstLoadGzipBytes <= BUDGET, editorOnDemandGzipKB: kb(out.editorGzipBytes), buildMs };
process.stdout.write(JSON.stringify(report, null, 2) + '\n');
if (!report.withinBudget) process.exitCode = 1;
