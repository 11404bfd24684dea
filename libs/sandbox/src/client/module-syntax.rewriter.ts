/**
 * Rewrites an action's module syntax (`import`, `export`, `import()`, `import.meta`) into the
 * CommonJS the worker runs, from the syntax tree of a real parser (acorn), never from patterns
 * over the text: `import(` in a string, a template, a regular expression or a comment is text,
 * and only a real dynamic import is rewritten.
 *
 * The rewrite is done in place and never adds or removes a line, so the line numbers of error
 * stacks are the author's: `export` keywords become spaces, `export { … }` lists become blank,
 * and what an import or an export needs (the `require` calls, the export getters, a few
 * helpers) is inserted on the first line, before the author's code (after its directives).
 * Only the columns of the first line move.
 *
 * Semantics are those of esbuild's ESM → CommonJS transform, which this replaces: a CommonJS
 * module imported by default gives its `module.exports` (or its `default` when it sets
 * `__esModule`), named imports read its properties, exports are getters on `module.exports`,
 * and `import(x)` becomes a promise of `require(x)`, so it loads what `require` allows and is
 * refused (`MODULE_NOT_ALLOWED`, thrown where it was called) for anything else: a dynamic import
 * must never reach Node's loader inside the sandbox, whose errors are objects of the host realm.
 * Imports are read once, when the module starts (no live bindings, which single-file actions
 * importing libraries never need). Top-level `await` cannot become CommonJS and is refused.
 */
import { parse, type Node, type Options, type Program } from 'acorn';

export type RewriteOutcome = { ok: true; code: string; exports: ExportedNames } | { ok: false; message: string };

/** What the module exports: each exported name, and the local name behind `default` if it has one. */
export interface ExportedNames {
  names: string[];
  defaultLocal: string | undefined;
}

interface AnyNode extends Node {
  [key: string]: unknown;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

const COMMON_OPTIONS: Options = { ecmaVersion: 'latest', allowReturnOutsideFunction: true, allowHashBang: true };
/** Script-only failures that mean the text is a module (a module parse then says what is wrong). */
const MODULE_ONLY = /may appear only with 'sourceType: module'|outside a module|'await' outside|await is only valid/;
const FUNCTIONS: ReadonlySet<string> = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);
const PREFIX = '__codestep_';
const HELPERS = {
  esm: `const ${PREFIX}esm = (m) => { const t = m != null ? Object.create(Object.getPrototypeOf(m)) : {}; if (!m || !m.__esModule) Object.defineProperty(t, "default", { value: m, enumerable: true }); if ((m && typeof m === "object") || typeof m === "function") for (const k of Object.getOwnPropertyNames(m)) if (!Object.prototype.hasOwnProperty.call(t, k)) { const d = Object.getOwnPropertyDescriptor(m, k); Object.defineProperty(t, k, { get: () => m[k], enumerable: !d || d.enumerable }); } return t; };`,
  import: `const ${PREFIX}import = (s) => { try { return Promise.resolve(${PREFIX}esm(require(s))); } catch (e) { return Promise.reject(e); } };`,
  export: `const ${PREFIX}export = (all) => { Object.defineProperty(module.exports, "__esModule", { value: true }); for (const k of Object.keys(all)) Object.defineProperty(module.exports, k, { get: all[k], enumerable: true, configurable: true }); };`,
  reexport: `const ${PREFIX}reexport = (m) => { for (const k of Object.keys(m)) if (k !== "default" && !Object.prototype.hasOwnProperty.call(module.exports, k)) Object.defineProperty(module.exports, k, { get: () => m[k], enumerable: true, configurable: true }); };`,
} as const;

type Parsed = { program: Program; module: boolean } | { error: string } | { leave: true };

/** Where in the author's file, as `index.js:line:column`. */
function where(code: string, offset: number): string {
  const before = code.slice(0, offset);
  const lineStart = Math.max(before.lastIndexOf('\n'), before.lastIndexOf('\r')) + 1;
  return `index.js:${before.split(/\r\n|\r|\n|\u2028|\u2029/).length}:${offset - lineStart + 1}`;
}

function syntaxError(error: unknown): string {
  const described = error as { message?: unknown; loc?: { line: number; column: number } };
  const text = String(described.message ?? error).replace(/ \(\d+:\d+\)$/, '');
  return described.loc ? `SyntaxError: ${text} (index.js:${described.loc.line}:${described.loc.column + 1})` : `SyntaxError: ${text}`;
}

/**
 * A script first (CommonJS in sloppy mode, as Node runs it), then a module. Text that is
 * neither is left to V8, which reports it as Node would, unless it fails as a script only
 * because of module syntax: then the module parse says what is wrong, and where.
 */
function parseAction(code: string): Parsed {
  let scriptError: unknown;
  try {
    return { program: parse(code, { ...COMMON_OPTIONS, sourceType: 'script' }), module: false };
  } catch (error) {
    if (error instanceof RangeError) return { error: 'SyntaxError: the action is nested too deeply to be read' };
    scriptError = error;
  }
  try {
    return { program: parse(code, { ...COMMON_OPTIONS, sourceType: 'module' }), module: true };
  } catch (error) {
    if (error instanceof RangeError) return { error: 'SyntaxError: the action is nested too deeply to be read' };
    return MODULE_ONLY.test(String((scriptError as { message?: unknown }).message)) ? { error: syntaxError(error) } : { leave: true };
  }
}

interface Found {
  dynamicImports: AnyNode[];
  importMetas: AnyNode[];
  topLevelAwait: AnyNode | undefined;
}

/** Every dynamic import, `import.meta` and top-level `await` of the tree. */
function find(node: AnyNode, inFunction: boolean, found: Found): void {
  if (node.type === 'ImportExpression') found.dynamicImports.push(node);
  else if (node.type === 'MetaProperty' && (node.meta as AnyNode).name === 'import') found.importMetas.push(node);
  else if (!inFunction && (node.type === 'AwaitExpression' || (node.type === 'ForOfStatement' && node.await === true))) found.topLevelAwait ??= node;
  else if (!inFunction && node.type === 'VariableDeclaration' && node.kind === 'await using') found.topLevelAwait ??= node;
  const inner = inFunction || FUNCTIONS.has(node.type);
  for (const key in node) {
    const value = node[key];
    if (Array.isArray(value)) {
      for (const child of value) if (child && typeof (child as AnyNode).type === 'string') find(child as AnyNode, inner, found);
    } else if (value && typeof value === 'object' && typeof (value as AnyNode).type === 'string') find(value as AnyNode, inner, found);
  }
}

/** The identifiers a declaration's pattern binds (`const { a, b: [c] } = …` binds a and c). */
function boundNames(pattern: AnyNode, names: string[]): string[] {
  switch (pattern.type) {
    case 'Identifier':
      names.push(String(pattern.name));
      break;
    case 'ObjectPattern':
      for (const property of pattern.properties as AnyNode[]) boundNames(property.type === 'RestElement' ? (property.argument as AnyNode) : (property.value as AnyNode), names);
      break;
    case 'ArrayPattern':
      for (const element of pattern.elements as Array<AnyNode | null>) if (element) boundNames(element, names);
      break;
    case 'RestElement':
      boundNames(pattern.argument as AnyNode, names);
      break;
    case 'AssignmentPattern':
      boundNames(pattern.left as AnyNode, names);
      break;
  }
  return names;
}

const nameOf = (node: AnyNode): string => (node.type === 'Identifier' ? String(node.name) : String(node.value));
const key = (name: string): string => JSON.stringify(name);
/** Blanks a range, keeping its line breaks. */
const blank = (code: string, start: number, end: number): Edit => ({ start, end, text: code.slice(start, end).replace(/[^\n\r\u2028\u2029]/g, ' ') });

class ModuleRewrite {
  readonly prelude: string[] = [];
  readonly getters: string[] = [];
  readonly edits: Edit[] = [];
  readonly exported: ExportedNames = { names: [], defaultLocal: undefined };
  readonly helpers = new Set<keyof typeof HELPERS>();
  readonly #code: string;
  #modules = 0;

  constructor(code: string) {
    this.#code = code;
  }

  /** A variable holding the namespace of module `source`, required where the prelude runs. */
  require(source: AnyNode): string {
    const variable = `${PREFIX}m${this.#modules++}`;
    this.helpers.add('esm');
    this.prelude.push(`const ${variable} = ${PREFIX}esm(require(${key(String(source.value))}));`);
    return variable;
  }

  export(name: string, expression: string): void {
    this.exported.names.push(name);
    this.getters.push(`${key(name)}: () => ${expression}`);
  }

  importDeclaration(node: AnyNode): void {
    const namespace = this.require(node.source as AnyNode);
    const bindings: string[] = [];
    for (const specifier of node.specifiers as AnyNode[]) {
      const local = String((specifier.local as AnyNode).name);
      if (specifier.type === 'ImportNamespaceSpecifier') bindings.push(`${local} = ${namespace}`);
      else if (specifier.type === 'ImportDefaultSpecifier') bindings.push(`${local} = ${namespace}.default`);
      else bindings.push(`${local} = ${namespace}[${key(nameOf(specifier.imported as AnyNode))}]`);
    }
    if (bindings.length > 0) this.prelude.push(`const ${bindings.join(', ')};`);
    this.edits.push(blank(this.#code, node.start, node.end));
  }

  exportNamed(node: AnyNode): void {
    const declaration = node.declaration as AnyNode | null | undefined;
    if (declaration) {
      this.edits.push(blank(this.#code, node.start, declaration.start));
      if (declaration.type === 'VariableDeclaration') {
        for (const declarator of declaration.declarations as AnyNode[]) for (const name of boundNames(declarator.id as AnyNode, [])) this.export(name, name);
      } else this.export(String((declaration.id as AnyNode).name), String((declaration.id as AnyNode).name));
      return;
    }
    const from = node.source ? this.require(node.source as AnyNode) : undefined;
    for (const specifier of node.specifiers as AnyNode[]) {
      const local = nameOf(specifier.local as AnyNode);
      const exported = nameOf(specifier.exported as AnyNode);
      if (exported === 'default' && !from) this.exported.defaultLocal = local;
      this.export(exported, from ? `${from}[${key(local)}]` : local);
    }
    this.edits.push(blank(this.#code, node.start, node.end));
  }

  exportDefault(node: AnyNode): void {
    const declaration = node.declaration as AnyNode;
    const id = declaration.id as AnyNode | null | undefined;
    if ((declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration') && id) {
      this.edits.push(blank(this.#code, node.start, declaration.start));
      this.exported.defaultLocal = String(id.name);
      this.export('default', String(id.name));
      return;
    }
    if (declaration.type === 'Identifier') this.exported.defaultLocal = String(declaration.name);
    this.edits.push({ start: node.start, end: declaration.start, text: `const ${PREFIX}default = ` });
    // An anonymous declaration becomes an expression: end it, so the next line cannot continue it.
    if (declaration.type === 'FunctionDeclaration' || declaration.type === 'ClassDeclaration') this.edits.push({ start: declaration.end, end: declaration.end, text: ';' });
    this.export('default', `${PREFIX}default`);
  }

  exportAll(node: AnyNode): void {
    const from = this.require(node.source as AnyNode);
    if (node.exported) this.export(nameOf(node.exported as AnyNode), from);
    else {
      this.helpers.add('reexport');
      this.prelude.push(`${PREFIX}reexport(${from});`);
    }
    this.edits.push(blank(this.#code, node.start, node.end));
  }
}

function apply(code: string, at: number, inserted: string, edits: Edit[]): string {
  const all = [...edits, { start: at, end: at, text: inserted }].sort((a, b) => a.start - b.start || a.end - b.end);
  let out = '';
  let cursor = 0;
  for (const edit of all) {
    out += code.slice(cursor, edit.start) + edit.text;
    cursor = edit.end;
  }
  return out + code.slice(cursor);
}

/** Where the inserted first-line text goes: after the directive prologue (`'use strict'`), which must stay first. */
function insertionPoint(program: Program): number {
  let at = 0;
  for (const statement of program.body as unknown as AnyNode[]) {
    if (statement.type !== 'ExpressionStatement' || typeof statement.directive !== 'string') break;
    at = statement.end;
  }
  return at;
}

function rewriteProgram(code: string, program: Program, found: Found): { code: string; exports: ExportedNames } {
  const rewrite = new ModuleRewrite(code);
  for (const statement of program.body as unknown as AnyNode[]) {
    if (statement.type === 'ImportDeclaration') rewrite.importDeclaration(statement);
    else if (statement.type === 'ExportNamedDeclaration') rewrite.exportNamed(statement);
    else if (statement.type === 'ExportDefaultDeclaration') rewrite.exportDefault(statement);
    else if (statement.type === 'ExportAllDeclaration') rewrite.exportAll(statement);
  }
  for (const dynamic of found.dynamicImports) {
    rewrite.helpers.add('esm').add('import');
    rewrite.edits.push({ start: dynamic.start, end: dynamic.start + 'import'.length, text: `${PREFIX}import` });
  }
  for (const meta of found.importMetas) rewrite.edits.push({ start: meta.start, end: meta.end, text: '({})' });
  if (rewrite.getters.length > 0) {
    rewrite.helpers.add('export');
    rewrite.prelude.push(`${PREFIX}export({ ${rewrite.getters.join(', ')} });`);
  }
  const helpers = (Object.keys(HELPERS) as Array<keyof typeof HELPERS>).filter((name) => rewrite.helpers.has(name)).map((name) => HELPERS[name]);
  const inserted = [...helpers, ...rewrite.prelude].join(' ');
  return { code: apply(code, insertionPoint(program), inserted ? `${inserted} ` : '', rewrite.edits), exports: rewrite.exported };
}

/**
 * The CommonJS form of an action. A script without `import()` comes back as it was (the same
 * string), and so does text no parser reads (V8 then reports its syntax error as Node would).
 */
export function rewriteModuleSyntax(code: string): RewriteOutcome {
  // Module syntax cannot be written without one of these words (keywords admit no escapes):
  // most HubSpot actions have neither, and need no parse at all.
  if (!code.includes('import') && !code.includes('export')) return { ok: true, code, exports: { names: [], defaultLocal: undefined } };
  const parsed = parseAction(code);
  if ('leave' in parsed) return { ok: true, code, exports: { names: [], defaultLocal: undefined } };
  if ('error' in parsed) return { ok: false, message: parsed.error };
  const found: Found = { dynamicImports: [], importMetas: [], topLevelAwait: undefined };
  try {
    find(parsed.program as unknown as AnyNode, false, found);
  } catch (error) {
    if (error instanceof RangeError) return { ok: false, message: 'SyntaxError: the action is nested too deeply to be read' };
    throw error;
  }
  if (found.topLevelAwait) {
    return {
      ok: false,
      message: `SyntaxError: top-level await is not available: actions run as CommonJS; use await inside main or start (${where(code, found.topLevelAwait.start)})`,
    };
  }
  if (!parsed.module && found.dynamicImports.length === 0) return { ok: true, code, exports: { names: [], defaultLocal: undefined } };
  return { ok: true, ...rewriteProgram(code, parsed.program, found) };
}
