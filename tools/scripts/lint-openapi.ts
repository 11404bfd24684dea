/**
 * Lints the OpenAPI document the gateway serves (`GET /openapi.json`) with Redocly's linter
 * (`@redocly/openapi-core`, the engine of `redocly lint`) and its `recommended` rules, every
 * warning counted: `npm test` runs it and fails on any problem. Writes the document it linted to
 * the file given (default `.cache/openapi.json`), so a problem's location can be looked up there.
 *
 *   node tools/scripts/lint-openapi.ts [out.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createConfig, formatProblems, getTotals, lintFromString } from '@redocly/openapi-core';
import { openApiDocument } from '@codestep/gateway-service';

const out = resolve(process.argv[2] ?? '.cache/openapi.json');
const source = JSON.stringify(openApiDocument('http://127.0.0.1:8080'), null, 2);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, source + '\n');

const config = await createConfig({ extends: ['recommended'] });
const problems = await lintFromString({ source, absoluteRef: out, config });
const totals = getTotals(problems);
if (problems.length) formatProblems(problems, { format: 'codeframe', totals, version: 'openapi-core', maxProblems: 200 });
process.stdout.write(`OpenAPI lint (Redocly recommended) of ${out}: ${totals.errors} errors, ${totals.warnings} warnings\n`);
process.exitCode = problems.length ? 1 : 0;
