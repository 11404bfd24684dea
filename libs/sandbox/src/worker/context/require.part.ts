/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: `require`, and the registry of module functions the worker provides.
 *
 * `require` accepts only the allow-listed names the host sent (`modulesJson`; `node:` prefix
 * accepted), and a library's sub-path answered by one of its properties (`lodash/get`,
 * `aws-sdk/clients/s3`; the `subpaths` of `modulesJson`), and throws `MODULE_NOT_ALLOWED`
 * naming the runtime version and the allowed list otherwise. Which version of a library a name
 * loads is the host's choice (the execution's runtime version), made in `loadModule`. A module is
 * evaluated once per context: the host's `loadModule(name)` runs the library's compiled script
 * in this context and hands the resulting function back through `provide`, so only functions of
 * this realm ever enter the registry. The runtime's internal `codestep:` modules are never in
 * the allow-list; the prelude gets them through `internal` (see `bridge.part.ts`).
 */
import type { ContextCore } from './core.part.ts';

type ModuleFactory = (module: unknown, exports: unknown, require: unknown) => void;

/** What the require part gives later parts (a context-realm object). */
export interface RequirePart {
  /** The context's `require`. */
  require: ((name: unknown) => unknown) & Record<string, unknown>;
  /** Registers the module function the worker evaluated in this context (ignored unless a function). */
  provide: (name: string, factory: unknown) => void;
  /** An internal `codestep:` module's function, loaded on first use; undefined otherwise. */
  internal: (name: unknown) => unknown;
  /** The execution's runtime version, named in refusals (set when the execution starts). */
  setRuntimeVersion: (name: string) => void;
}

/** Runs in the context (from its source text). */
export function requirePart(core: ContextCore): RequirePart {
  'use strict';
  const { call, reflectApply, defineProperty, jsonParse, isArray, ErrorCtor, TypeErrorCtor, MapCtor, stringStartsWith } = core;
  const { get, put, has, del, slice, join, safeString, platformError } = core;
  const setHas = Set.prototype.has;
  const stringIndexOf = String.prototype.indexOf;
  const setAdd = Set.prototype.add;
  // `modulesJson`: the names, or `{ modules: names, subpaths: { 'lodash/': 'lodash', ... } }`.
  let allowedModules: string[] = [];
  let subpaths = Object.create(null) as Record<string, string>;
  try {
    const parsed = jsonParse(core.modulesJson) as unknown;
    if (isArray(parsed)) allowedModules = parsed as string[];
    else if (parsed !== null && typeof parsed === 'object') {
      const described = parsed as { modules?: unknown; subpaths?: unknown };
      if (isArray(described.modules)) allowedModules = described.modules as string[];
      if (described.subpaths !== null && typeof described.subpaths === 'object') subpaths = described.subpaths as Record<string, string>;
    }
  } catch {
    allowedModules = [];
  }
  const subpathPrefixes = core.objectKeys(subpaths);
  let runtimeVersion = '';
  const allowed = new Set<string>();
  for (let i = 0; i < allowedModules.length; i++) reflectApply(setAdd, allowed, [allowedModules[i]]);
  // Why a Node built-in that actions cannot have is refused (a `node:` name or a subpath of it).
  // The runtime gives load-only stand-ins for some (child_process, tty, ...): these reasons are
  // for a context whose allow-list leaves them out.
  const refusals = Object.create(null) as Record<string, string>;
  refusals.child_process = 'actions cannot start processes';
  refusals.cluster = 'actions cannot start processes';
  refusals.worker_threads = 'actions cannot start threads; each execution is single-threaded';
  refusals.tty = 'actions have no terminal';
  refusals.process = 'use the global process';
  refusals.http2 = 'use http, https or fetch (egress speaks HTTP/1.1)';
  refusals.perf_hooks = 'use the global performance';
  refusals.async_hooks = "the engine's internals are not exposed to actions";
  refusals.diagnostics_channel = "the engine's internals are not exposed to actions";
  refusals.vm = 'actions cannot compile code at run time (string code generation is off)';
  refusals.v8 = "the engine's internals are not exposed to actions";
  refusals.inspector = "the engine's internals are not exposed to actions";
  refusals.module = 'modules are resolved by the sandbox; require one of the available modules by name';
  refusals.repl = 'actions have no terminal';
  refusals.readline = 'actions have no terminal';
  refusals.wasi = 'WebAssembly is off in actions';
  refusals.trace_events = "the engine's internals are not exposed to actions";
  refusals.sqlite = 'actions have no local database';
  const refusalOf = (id: string): string => {
    const slash = reflectApply(stringIndexOf, id, ['/']) as number;
    const base = slash > 0 ? slice(id, 0, slash) : id;
    const reason = refusals[base];
    return typeof reason === 'string' ? `: ${reason}` : '';
  };
  const stringToLowerCase = String.prototype.toLowerCase;
  const lower = (text: string): string => reflectApply(stringToLowerCase, text, []) as string;
  // `lodash/get` → lodash's `get`; `aws-sdk/clients/s3` → aws-sdk's `S3` (case aside).
  const fromSubpath = (id: string): { found: boolean; value?: unknown } => {
    for (let i = 0; i < subpathPrefixes.length; i++) {
      const prefix = subpathPrefixes[i] as string;
      const library = subpaths[prefix];
      if (typeof library !== 'string' || !reflectApply(stringStartsWith, id, [prefix]) || !(reflectApply(setHas, allowed, [library]) as boolean)) continue;
      const member = slice(id, prefix.length);
      if (member === '' || reflectApply(stringIndexOf, member, ['/']) !== -1) continue;
      const exports = requireModule(library) as Record<string, unknown>;
      if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null) continue;
      const keys = core.objectKeys(exports);
      const wanted = lower(member);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k] as string;
        if (key === member || lower(key) === wanted) return { found: true, value: exports[key] };
      }
    }
    return { found: false };
  };
  const factories = new MapCtor<string, ModuleFactory>();
  const loaded = new MapCtor<string, { exports: unknown; id: string; loaded: boolean }>();
  const requireModule = function require(name: unknown): unknown {
    if (typeof name !== 'string') throw platformError(TypeErrorCtor, 'ERR_INVALID_ARG_TYPE', 'require() needs a module name string');
    let id = reflectApply(stringStartsWith, name, ['node:']) ? slice(name, 5) : name;
    // `punycode/`, `events/`: the npm package a built-in is made of, asked for by its directory.
    if (id.length > 1 && id[id.length - 1] === '/' && (reflectApply(setHas, allowed, [slice(id, 0, id.length - 1)]) as boolean)) id = slice(id, 0, id.length - 1);
    const cached = get(loaded, id);
    if (cached) return cached.exports;
    if (!(reflectApply(setHas, allowed, [id]) as boolean)) {
      const sub = subpathPrefixes.length > 0 ? fromSubpath(id) : { found: false };
      if (sub.found) {
        put(loaded, id, { exports: sub.value, id, loaded: true });
        return sub.value;
      }
      const where = runtimeVersion === '' ? 'actions' : `actions on runtime ${runtimeVersion}`;
      throw platformError(ErrorCtor, 'MODULE_NOT_ALLOWED', `Cannot require "${name}": it is not available to ${where}${refusalOf(id)}. Available modules: ${join(allowedModules, ', ') || '(none)'}`);
    }
    if (!has(factories, id) && call('loadModule', id) !== true) throw platformError(ErrorCtor, 'MODULE_LOAD_FAILED', `Cannot require "${name}": the module failed to load`);
    const factory = get(factories, id);
    if (typeof factory !== 'function') throw platformError(ErrorCtor, 'MODULE_LOAD_FAILED', `Cannot require "${name}": the module failed to load`);
    const module = { exports: {} as unknown, id, loaded: false };
    put(loaded, id, module);
    try {
      reflectApply(factory, module.exports, [module, module.exports, requireModule]);
    } catch (error) {
      del(loaded, id);
      throw error;
    }
    module.loaded = true;
    return module.exports;
  } as RequirePart['require'];
  // Bundlers may rename the function expression; code that looks at the name sees Node's.
  defineProperty(requireModule, 'name', { value: 'require', configurable: true });
  requireModule.resolve = (name: unknown) => safeString(name);
  requireModule.cache = Object.create(null);
  const part = Object.create(null) as RequirePart;
  part.require = requireModule;
  part.setRuntimeVersion = (name: string): void => {
    runtimeVersion = safeString(name);
  };
  part.provide = (name: string, factory: unknown): void => {
    if (typeof factory === 'function') put(factories, name, factory);
  };
  // Returns the module function the host's `loadModule` produced by running the module's
  // script in this context and handed to `provide`: a function of this realm, never a host
  // object (only typeof-checked values of `factories` can come out, and only the worker's
  // `runInContext` puts them there), or undefined.
  part.internal = (name: unknown): unknown => {
    if (typeof name !== 'string' || !reflectApply(stringStartsWith, name, ['codestep:']) || (reflectApply(setHas, allowed, [name]) as boolean)) return undefined;
    if (!has(factories, name) && call('loadModule', name) !== true) return undefined;
    const factory = get(factories, name);
    return typeof factory === 'function' ? factory : undefined;
  };
  return part;
}
