/**
 * Turns an action's source into the CommonJS the worker runs, from its syntax tree
 * (`module-syntax.rewriter.ts`): plain CommonJS (the HubSpot form) passes through untouched,
 * module syntax (JsWorkflows' `export class Workflow`, ESM imports, `import()`) is rewritten in
 * place, line for line, so error stacks point at the author's lines either way. Parsing is
 * cheap next to an execution and done once per distinct source (cached by content).
 */
import { createHash } from 'node:crypto';
import { parse } from 'acorn';
import { rewriteModuleSyntax } from './module-syntax.rewriter.ts';

export type TransformOutcome = { ok: true; code: string; hash: string } | { ok: false; message: string };

const CACHE_ENTRIES = 256;
const cache = new Map<string, Promise<TransformOutcome>>();

export function hashCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

function transform(code: string): TransformOutcome {
  const outcome = rewriteModuleSyntax(code);
  return outcome.ok ? { ok: true, code: outcome.code, hash: hashCode(outcome.code) } : outcome;
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
  const outcome = Promise.resolve(transform(code));
  cache.set(key, outcome);
  if (cache.size > CACHE_ENTRIES) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  return outcome;
}

/**
 * A module exporting `Workflow` (`export class Workflow`, `export { Workflow }`, or as its
 * default), or declaring `class Workflow` at its top level without exporting it (JsWorkflows'
 * documentation shows both), is JsWorkflows code.
 */
export function detectRuntime(code: string): 'hubspot' | 'jsworkflows' {
  const outcome = rewriteModuleSyntax(code);
  if (!outcome.ok) return 'hubspot';
  if (outcome.exports.names.includes('Workflow') || outcome.exports.defaultLocal === 'Workflow') return 'jsworkflows';
  return declaresWorkflowClass(code) ? 'jsworkflows' : 'hubspot';
}

function declaresWorkflowClass(code: string): boolean {
  try {
    const program = parse(code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true, allowAwaitOutsideFunction: true });
    return program.body.some((node) => node.type === 'ClassDeclaration' && node.id?.name === 'Workflow');
  } catch {
    return false;
  }
}
