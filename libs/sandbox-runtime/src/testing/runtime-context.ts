/**
 * A reference wiring of the runtime into a real `vm` context, as the sandbox core does it: a
 * null-prototype global, string code generation and wasm off, the prelude installed over a
 * primitive-only bridge, and an in-context `require` over the library scripts. Tests and the
 * benchmark use it; the sandbox core may copy the pattern.
 *
 * Host functions handed to the context (the bridge, the script loader) are captured in
 * closures of in-context functions and never stored where user code can reach them.
 */
import { randomBytes } from 'node:crypto';
import vm from 'node:vm';
import { BuiltinHost } from '../host/builtin-host.ts';
import type { RuntimeVersion } from '@codestep/core';
import { isInternalModule, isLibraryKey, type SandboxRuntime, type Script } from '../runtime.types.ts';

export interface RuntimeContextOptions {
  /** The host side of `bridge.fetch`: request JSON in, response JSON out. Default: every request fails. */
  fetch?: (requestJson: string) => Promise<string>;
  /** Default: node:crypto's randomBytes. */
  randomBytes?: (n: number) => string;
  now?: () => number;
  /** The host side of `bridge.builtin` (crypto, zlib). Default: a {@link BuiltinHost} with a 128 MiB output ceiling. */
  builtin?: (op: string, payloadJson: string) => string;
  /** The host side of `bridge.dns`: request JSON in, answer JSON out. Default: every query is refused. */
  dns?: (requestJson: string) => Promise<string>;
  /** Compiled scripts shared across contexts (as a worker would keep them). */
  scripts?: ScriptCache;
  /** Whose libraries `require` gives. @default 'node24' (the versions these tests were written against) */
  runtimeVersion?: RuntimeVersion;
}

/** Compiles each script once per process, from V8 code cache when one is given. */
export class ScriptCache {
  readonly #scripts = new Map<string, vm.Script>();
  readonly #cachedData: Map<string, Buffer>;
  /** Filenames whose compile used (and did not reject) cached data. */
  readonly fromCache = new Set<string>();

  constructor(cachedData: Map<string, Buffer> = new Map()) {
    this.#cachedData = cachedData;
  }

  get(script: Script): vm.Script {
    let compiled = this.#scripts.get(script.filename);
    if (compiled === undefined) {
      const cachedData = this.#cachedData.get(script.filename);
      compiled = new vm.Script(script.source, { filename: script.filename, ...(cachedData ? { cachedData } : {}) });
      if (cachedData && !compiled.cachedDataRejected) this.fromCache.add(script.filename);
      this.#scripts.set(script.filename, compiled);
    }
    return compiled;
  }

  /** Code cache for every script compiled so far (after running, so lazily compiled functions are in it). */
  createCachedData(): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    for (const [filename, script] of this.#scripts) out.set(filename, script.createCachedData());
    return out;
  }
}

export interface RuntimeContext {
  context: vm.Context;
  /** Run a script in the context; returns its completion value (an in-context value). */
  run(code: string): unknown;
  /**
   * Run `async () => { body }` in the context with `require` in scope and return the JSON of its
   * result (as the core returns outputs: one string out of the context).
   */
  runAsync(body: string): Promise<unknown>;
}

const REQUIRE_FACTORY = `(function (load, names) {
  'use strict';
  const cache = Object.create(null);
  return function require(name) {
    name = String(name);
    if (name.startsWith('node:')) name = name.slice(5);
    if (cache[name]) return cache[name].exports;
    if (!names.includes(name)) {
      const error = new Error("Cannot require '" + name + "': it is not on the sandbox allow-list");
      error.code = 'MODULE_NOT_ALLOWED';
      throw error;
    }
    const module = { exports: {} };
    cache[name] = module;
    const fn = load(name);
    fn.call(module.exports, module, module.exports, require);
    return module.exports;
  };
})`;

export function createRuntimeContext(runtime: SandboxRuntime, options: RuntimeContextOptions = {}): RuntimeContext {
  const scripts = options.scripts ?? new ScriptCache();
  const context = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
  const install = scripts.get(runtime.prelude).runInContext(context) as (global: unknown, bridge: unknown) => void;
  const hostFetch = options.fetch ?? (async () => JSON.stringify({ ok: false, error: { code: 'EGRESS_BLOCKED', message: 'no network in this test' } }));
  const bridge = {
    fetch(requestJson: string, onDone: (responseJson: string) => void): void {
      hostFetch(String(requestJson)).then(
        (json) => onDone(json),
        (error: unknown) => onDone(JSON.stringify({ ok: false, error: { code: 'EGRESS_NETWORK', message: String(error) } })),
      );
    },
    randomBytes: options.randomBytes ?? ((n: number) => randomBytes(n).toString('base64')),
    builtin:
      options.builtin ??
      (
        (host: BuiltinHost) => (op: string, payloadJson: string) =>
          host.call(String(op), String(payloadJson))
      )(new BuiltinHost(128 * 1024 * 1024)),
    dns(requestJson: string, onDone: (answerJson: string) => void): void {
      const hostDns = options.dns ?? (async () => JSON.stringify({ ok: false, error: { code: 'EGRESS_BLOCKED', message: 'no DNS in this test' } }));
      hostDns(String(requestJson)).then(
        (json) => onDone(json),
        (error: unknown) => onDone(JSON.stringify({ ok: false, error: { code: 'EGRESS_NETWORK', message: String(error) } })),
      );
    },
    now: options.now ?? (() => performance.timeOrigin + performance.now()),
    // Evaluated in this context: the module function is a value of the context's realm.
    loadModule(name: string): unknown {
      const script = isInternalModule(String(name)) ? runtime.libraries[String(name)] : undefined;
      return script === undefined ? undefined : scripts.get(script).runInContext(context);
    },
  };
  const global = vm.runInContext('globalThis', context);
  install(global, bridge);
  // Timers and queueMicrotask are the core's; here they are made inside the context over host timers.
  const makeTimers = vm.runInContext(
    `(function (hostSetTimeout, hostClearTimeout) {
      'use strict';
      const ids = new Map(); let next = 1;
      globalThis.setTimeout = function (fn, ms, ...args) { const id = next++; ids.set(id, hostSetTimeout(() => { ids.delete(id); fn(...args); }, Number(ms) || 0)); return id; };
      globalThis.clearTimeout = function (id) { if (ids.has(id)) { hostClearTimeout(ids.get(id)); ids.delete(id); } };
      globalThis.setInterval = function () { throw new Error('setInterval is not used in these tests'); };
      globalThis.clearInterval = globalThis.clearTimeout;
      globalThis.queueMicrotask = function (fn) { Promise.resolve().then(fn); };
      globalThis.console = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
    })`,
    context,
  ) as (st: (fn: () => void, ms: number) => number, ct: (id: number) => void) => void;
  makeTimers(
    (fn, ms) => setTimeout(fn, ms) as unknown as number,
    (id) => clearTimeout(id),
  );
  const table = runtime.runtimeVersions[options.runtimeVersion ?? 'node24'];
  const names = [...Object.keys(runtime.libraries).filter((name) => !isInternalModule(name) && !isLibraryKey(name)), ...Object.keys(table)];
  const load = (name: string): unknown => {
    const script = runtime.libraries[Object.hasOwn(table, name) ? (table[name] as string) : name];
    if (script === undefined) throw new Error(`no library ${name}`);
    return scripts.get(script).runInContext(context);
  };
  const requireFactory = vm.runInContext(REQUIRE_FACTORY, context) as (load: (name: string) => unknown, names: unknown) => unknown;
  const inContextNames = vm.runInContext(`(${JSON.stringify(names)})`, context);
  const requireFn = requireFactory(load, inContextNames);
  vm.runInContext('(function (r) { globalThis.require = r; })', context)(requireFn);

  return {
    context,
    run: (code) => vm.runInContext(code, context),
    runAsync: async (body) => {
      const promise = vm.runInContext(`(async () => { ${body} })().then((v) => JSON.stringify(v === undefined ? null : v))`, context) as Promise<string>;
      return JSON.parse(await promise) as unknown;
    },
  };
}
