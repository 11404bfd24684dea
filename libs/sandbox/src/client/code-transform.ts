/**
 * Turns an action's source into the CommonJS the worker runs. Plain CommonJS (the HubSpot
 * form) passes through untouched, so line numbers stay the user's. Source that uses `import`
 * or `export` (JsWorkflows' `export class Workflow`, ESM imports, `import()`) goes through
 * esbuild's transform to CommonJS, which also rewrites `import()` into `require()`: a dynamic
 * import must never reach Node's loader inside the sandbox, where its errors would be objects
 * of the host realm.
 */
import { createHash } from 'node:crypto';
import * as esbuild from 'esbuild';

export type TransformOutcome = { ok: true; code: string; hash: string } | { ok: false; message: string };

const MODULE_SYNTAX = /\b(import|export)\b/;
const DYNAMIC_IMPORT = /\bimport\s*\(/;
const CACHE_ENTRIES = 256;
const cache = new Map<string, Promise<TransformOutcome>>();

export function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

async function transform(code: string): Promise<TransformOutcome> {
  if (!MODULE_SYNTAX.test(code)) return { ok: true, code, hash: hashCode(code) };
  try {
    const result = await esbuild.transform(code, {
      loader: 'js',
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      supported: { 'dynamic-import': false },
      legalComments: 'none',
      sourcefile: 'index.js',
      logLevel: 'silent',
    });
    if (DYNAMIC_IMPORT.test(result.code)) {
      return { ok: false, message: 'SyntaxError: import() could not be rewritten; use require() for the available modules' };
    }
    return { ok: true, code: result.code, hash: hashCode(result.code) };
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> }).errors?.[0];
    if (!first) return { ok: false, message: `SyntaxError: ${error instanceof Error ? error.message : String(error)}` };
    const where = first.location ? ` (index.js:${first.location.line}:${first.location.column + 1})` : '';
    return { ok: false, message: `SyntaxError: ${first.text}${where}` };
  }
}

/** The CommonJS form of `code`, cached by content. */
export function toCommonJs(code: string): Promise<TransformOutcome> {
  const key = code.length < 4096 ? code : hashCode(code);
  const cached = cache.get(key);
  if (cached) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const outcome = transform(code);
  cache.set(key, outcome);
  if (cache.size > CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return outcome;
}

/** `export class Workflow` (or `export { Workflow }`) marks JsWorkflows code. */
export function detectRuntime(code: string): 'hubspot' | 'jsworkflows' {
  return /\bexport\s+(default\s+)?class\s+Workflow\b|\bexport\s*\{[^}]*\bWorkflow\b/.test(code) ? 'jsworkflows' : 'hubspot';
}
