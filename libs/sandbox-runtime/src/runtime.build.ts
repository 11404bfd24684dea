/**
 * Builds the in-context runtime with esbuild and caches it under
 * `<repo>/.cache/sandbox-runtime/<key>/`, where the key hashes every input: the in-context
 * sources, this build configuration, esbuild's version and the version of every npm package
 * that goes into a bundle (walked through their dependencies). A fresh clone builds on first
 * use; later calls only read files.
 *
 * Building needs fs writes and a child process (esbuild's binary), which the sandbox-host
 * process does not have: build in the executor (or with `npm run build -w
 * @codestep/sandbox-runtime`) and let the host only read the cache.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CodestepError } from '@codestep/core';
import type * as Esbuild from 'esbuild';
import { nodeBundleDefines } from './node-bundle.defines.ts';
import { RUNTIME_VERSIONS, type RuntimeVersion } from '@codestep/core';
import {
  ALLOWED_LIBRARIES,
  DEPENDENCY_LIBRARIES,
  NODE_PLATFORM_LIBRARIES,
  RUNTIME_LIBRARY_SETS,
  isLibraryKey,
  libraryKey,
  NET_RUNTIME_MODULE,
  NODE_BUILTIN_BUNDLES,
  NODE_BUILTIN_SHIMS,
  WEB_RUNTIME_MODULE,
  type SandboxRuntime,
  type Script,
} from './runtime.types.ts';

type EsbuildModule = typeof Esbuild;

const SRC_DIR = import.meta.dirname;
const LIB_DIR = path.resolve(SRC_DIR, '..');
const IN_CONTEXT_DIR = path.join(SRC_DIR, 'in-context');
/** The repository root: libs/sandbox-runtime/src → ../../.. */
export const REPO_ROOT = path.resolve(SRC_DIR, '..', '..', '..');
export const DEFAULT_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'sandbox-runtime');

const PRELUDE_FILENAME = 'codestep-runtime/prelude.js';
const WEB_RUNTIME_FILENAME = 'codestep-runtime/web-runtime.js';
const WEB_RUNTIME_FILE = 'web-runtime.js';
const NET_RUNTIME_FILE = 'net-runtime.js';
const libraryFilename = (name: string) =>
  name === WEB_RUNTIME_MODULE ? WEB_RUNTIME_FILENAME : name.startsWith('codestep:') ? `codestep-runtime/${name.slice(9)}.js` : `codestep-runtime/node_modules/${name}/index.js`;
const libraryFile = (name: string) => `lib-${name.replace(/[^a-z0-9.-]/gi, '_')}.js`;

/** Node built-in names a bundle may leave to `require` (resolved to the shims at run time). */
const EXTERNAL_BUILTINS = [...NODE_BUILTIN_SHIMS];
/** Packages substituted inside library bundles: their Node code paths become fetch-based ones. */
const ALIASES: Record<string, string> = {
  'node-fetch': path.join(IN_CONTEXT_DIR, 'node-fetch.cjs'),
  'form-data': path.join(IN_CONTEXT_DIR, 'form-data.cjs'),
};
/** In-context stand-in for whatwg-url's `tr46` (see the file: an exact fast path for ASCII domains). */
const TR46_SHIM = path.join(IN_CONTEXT_DIR, 'tr46.cjs');
const KEEP_RESOLVING = Symbol('tr46-real');
/** `process` inside the built-ins' bundles (readable-stream requires the npm `process`): the runtime's library process. */
const PROCESS_SHIM = path.join(IN_CONTEXT_DIR, 'node', 'process-shim.cjs');

/**
 * Routes `require('tr46')` to {@link TR46_SHIM}, except from the shim itself, whose
 * `require('tr46')` resolves as it would have from the package that asked for it.
 */
const tr46Shim: Esbuild.Plugin = {
  name: 'codestep-tr46',
  setup(build) {
    let requester = IN_CONTEXT_DIR;
    build.onResolve({ filter: /^tr46$/ }, async (args) => {
      if (args.pluginData === KEEP_RESOLVING) return undefined;
      if (args.importer !== TR46_SHIM) {
        requester = args.resolveDir;
        return { path: TR46_SHIM };
      }
      const resolved = await build.resolve('tr46', { kind: args.kind, resolveDir: requester, pluginData: KEEP_RESOLVING });
      return resolved.errors.length > 0 ? { errors: resolved.errors } : { path: resolved.path };
    });
  },
};

/** `require('process')` / `require('process/')` (readable-stream) → {@link PROCESS_SHIM}. */
const processShim: Esbuild.Plugin = {
  name: 'codestep-process',
  setup(build) {
    build.onResolve({ filter: /^process\/?$/ }, () => ({ path: PROCESS_SHIM }));
    // The npm package behind the `punycode` built-in (whose own name is left to the registry).
    build.onResolve({ filter: /^punycode\/$/ }, () => ({ path: path.join(path.dirname(findPackageJson('punycode', LIB_DIR) ?? ''), 'punycode.js') }));
  },
};

/**
 * Exact-text edits to bundled package files that run in every context, each keeping the
 * package's behaviour: a build whose file no longer contains the text fails, so an upgrade is
 * noticed rather than silently slower.
 */
const SOURCE_EDITS: Array<{ file: RegExp; find: string; replace: string; why: string }> = [
  {
    // webidl2js (whatwg-url) looks for an `eval` on its own globals object, which has none, and
    // lands in the catch: V8 builds a TypeError and re-parses the function to word it, ~0.1 ms
    // in every context that parses a URL. Throwing null instead reaches the same catch.
    file: /[\\/]whatwg-url[\\/]lib[\\/]utils\.js$/,
    find: 'globalObject.eval("(async function* () {})").prototype',
    replace: '(typeof globalObject.eval === "function" ? globalObject.eval("(async function* () {})") : (() => { throw null; })()).prototype',
    why: 'whatwg-url: no TypeError for the missing eval',
  },
];

const sourceEdits: Esbuild.Plugin = {
  name: 'codestep-source-edits',
  setup(build) {
    for (const edit of SOURCE_EDITS) {
      build.onLoad({ filter: edit.file }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes(edit.find)) throw new Error(`${edit.why}: ${args.path} no longer contains the text to edit; update SOURCE_EDITS in runtime.build.ts`);
        return { contents: text.replace(edit.find, edit.replace), loader: 'js' };
      });
    }
  },
};

/**
 * The `net` bundle's packages that the context's runtime already has (readable-stream asks for
 * them): resolved at run time through the runtime registry, so sockets use the context's own
 * `Buffer` and `EventEmitter`; `process/` is a microtask `nextTick`.
 */
const NET_RUNTIME_SHARED: Record<string, string> = {
  buffer: "module.exports = globalThis[Symbol.for('codestep.runtime')].require('buffer');",
  events: "module.exports = globalThis[Symbol.for('codestep.runtime')].require('events');",
  'process/': 'module.exports = { nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)), env: {}, version: "", versions: {}, browser: true };',
  'abort-controller': 'module.exports = { AbortController: globalThis.AbortController, AbortSignal: globalThis.AbortSignal };',
};

const netRuntimeShared: Esbuild.Plugin = {
  name: 'codestep-net-shared',
  setup(build) {
    build.onResolve({ filter: /^(buffer|events|process\/|abort-controller)$/ }, (args) => ({ path: args.path, namespace: 'codestep-net-shared' }));
    build.onLoad({ filter: /.*/, namespace: 'codestep-net-shared' }, (args) => ({ contents: NET_RUNTIME_SHARED[args.path] ?? '', loader: 'js' }));
  },
};

/** Bundle-time packages whose versions key the cache (their dependencies are walked too). */
const LIBRARY_DIRS = [...new Set(RUNTIME_VERSIONS.flatMap((v) => Object.values(RUNTIME_LIBRARY_SETS[v])))];
const KEYED_PACKAGES = [...LIBRARY_DIRS, ...DEPENDENCY_LIBRARIES, 'buffer', 'events', 'querystring-es3', 'whatwg-url', 'readable-stream', 'string_decoder', 'punycode', 'esbuild'];

export interface BuildOptions {
  /** @default `<repo>/.cache/sandbox-runtime` */
  cacheDir?: string;
  /** Rebuild even when the cache has this key. @default false */
  force?: boolean;
}

export interface BuildResult {
  runtime: SandboxRuntime;
  dir: string;
  /** False when the cache already held this key. */
  built: boolean;
  durationMs: number;
}

interface Manifest {
  key: string;
  prelude: string;
  libraries: Record<string, string>;
  runtimeVersions: Record<RuntimeVersion, Record<string, string>>;
}

/** A library's source is read from the cache on first use: most processes need few of them. */
function lazyScript(filename: string, file: string): Script {
  let source: string | undefined;
  return {
    filename,
    get source(): string {
      source ??= readFileSync(file, 'utf8');
      return source;
    },
  };
}

/** Locate `<name>/package.json` the way Node's resolver walks `node_modules` upwards. */
function findPackageJson(name: string, fromDir: string): string | null {
  let dir = fromDir;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function packageFingerprints(): string[] {
  const seen = new Map<string, string>();
  const visit = (name: string, fromDir: string) => {
    const pkgPath = findPackageJson(name, fromDir);
    if (pkgPath === null || seen.has(pkgPath)) return;
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string; dependencies?: Record<string, string> };
    seen.set(pkgPath, `${path.relative(REPO_ROOT, pkgPath)}@${pkg.version ?? '?'}`);
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(dep, path.dirname(pkgPath));
  };
  for (const name of KEYED_PACKAGES) visit(name, LIB_DIR);
  return [...seen.values()].sort();
}

/** The cache key: a hash over every input of the build. */
export function runtimeCacheKey(): string {
  const hash = createHash('sha256');
  hash.update('codestep-sandbox-runtime/1\n');
  hash.update(readFileSync(import.meta.filename));
  hash.update(readFileSync(path.join(SRC_DIR, 'node-bundle.defines.ts')));
  hash.update(`node ${process.versions.node}\n`);
  for (const file of (readdirSync(IN_CONTEXT_DIR, { recursive: true }) as string[]).sort()) {
    const full = path.join(IN_CONTEXT_DIR, file);
    if (!file.endsWith('.cjs') && !file.endsWith('.mjs')) continue;
    hash.update(`\n${file}\n`);
    hash.update(readFileSync(full));
  }
  for (const line of packageFingerprints()) hash.update(`\n${line}`);
  return hash.digest('hex').slice(0, 24);
}

async function readCached(dir: string, key: string): Promise<SandboxRuntime | null> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return null;
  }
  if (manifest.key !== key || manifest.runtimeVersions === undefined) return null;
  const prelude: Script = { filename: PRELUDE_FILENAME, source: await readFile(path.join(dir, manifest.prelude), 'utf8') };
  const libraries: Record<string, Script> = {};
  for (const [name, file] of Object.entries(manifest.libraries)) {
    libraries[name] = isLibraryKey(name) ? lazyScript(libraryFilename(name), path.join(dir, file)) : { filename: libraryFilename(name), source: await readFile(path.join(dir, file), 'utf8') };
  }
  return { prelude, libraries, runtimeVersions: manifest.runtimeVersions, version: key };
}

/**
 * Wraps esbuild's CommonJS output so that evaluating it yields the module function; `strict`
 * puts all of it in strict mode (the runtime's own bundles: no sloppy
 * `arguments.callee.caller` walks out of a bridge callback).
 */
function asModuleFunction(code: string, strict = false): string {
  return `(function (module, exports, require) {\n${strict ? "'use strict';\n" : ''}${code}\n})`;
}

/**
 * `runtime`: the prelude and the web runtime (the in-context sources and the packages they use,
 * all bundled in, with the build-time edits); otherwise an allow-listed library.
 */
async function bundle(esbuild: EsbuildModule, contents: string, options: { runtime: boolean; library?: string; builtin?: boolean; net?: boolean }): Promise<string> {
  if (options.library !== undefined && NODE_PLATFORM_LIBRARIES.has(options.library)) return bundleForNode(esbuild, contents, options.library);
  const result = await esbuild.build({
    stdin: { contents, resolveDir: IN_CONTEXT_DIR, sourcefile: 'entry.cjs', loader: 'js' },
    bundle: true,
    write: false,
    // Module paths in the output are relative to this: the same bundles whatever the caller's cwd.
    absWorkingDir: REPO_ROOT,
    format: 'cjs',
    platform: 'browser',
    mainFields: ['browser', 'main'],
    conditions: ['browser', 'require', 'default'],
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'silent',
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    define: { global: 'globalThis', 'process.env.NODE_ENV': '"production"', ...(options.builtin ? nodeBundleDefines() : {}) },
    ...(options.builtin
      ? // A built-in's bundle: the other built-ins are `require`d from the registry at run time.
        { external: [...EXTERNAL_BUILTINS], plugins: [processShim], inject: [path.join(IN_CONTEXT_DIR, 'library-process.mjs')] }
      : options.runtime
        ? { plugins: options.net === true ? [netRuntimeShared] : [tr46Shim, sourceEdits] }
        : {
            // Sibling allow-listed libraries stay external: one shared instance per context.
            external: [...EXTERNAL_BUILTINS, ...ALLOWED_LIBRARIES.filter((n) => n !== options.library)],
            alias: ALIASES,
            inject: [path.join(IN_CONTEXT_DIR, 'library-process.mjs')],
          }),
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new CodestepError('RUNTIME_BUILD_FAILED', 'esbuild produced no output');
  return out.text;
}

/** Node's built-in names, with and without `node:`, left to the sandbox's `require`. */
const NODE_BUILTINS = [...new Set([...builtinModules, ...builtinModules.map((n) => `node:${n}`)])];

/**
 * Optional packages the Node-platform libraries try to load inside `try` (native add-ons,
 * compression and auth plug-ins the sandbox cannot run): left as `require`s, which the sandbox
 * refuses with MODULE_NOT_ALLOWED, so each library takes its path for "not installed".
 */
const OPTIONAL_PEERS =
  /^(kerberos|snappy|snappy\/package\.json|@mongodb-js\/zstd|@mongodb-js\/saslprep|bson-ext|mongodb-client-encryption|aws4|gcp-metadata|socks|@aws-sdk\/credential-providers|@aws-sdk\/.*|encoding|supports-color|bufferutil|utf-8-validate)$/;

const optionalPeers: Esbuild.Plugin = {
  name: 'codestep-optional-peers',
  setup(build) {
    build.onResolve({ filter: OPTIONAL_PEERS }, async (args) => {
      if (args.pluginData === KEEP_RESOLVING) return undefined;
      const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: KEEP_RESOLVING });
      return resolved.errors.length > 0 ? { path: args.path, external: true } : { path: resolved.path };
    });
  },
};

/**
 * A seed library that talks to the network through Node's own modules (`net`, `http`, ...):
 * built for Node, its built-ins (and the other seed libraries) left to the sandbox's `require`,
 * `process` the sandbox's global one. Names are kept: `mysql` dispatches packets by their
 * constructor's name, which esbuild's renaming of clashing top-level names would change.
 */
async function bundleForNode(esbuild: EsbuildModule, contents: string, library: string): Promise<string> {
  const result = await esbuild.build({
    stdin: { contents, resolveDir: IN_CONTEXT_DIR, sourcefile: 'entry.cjs', loader: 'js' },
    bundle: true,
    write: false,
    // Module paths in the output are relative to this: the same bundles whatever the caller's cwd.
    absWorkingDir: REPO_ROOT,
    format: 'cjs',
    platform: 'node',
    target: 'es2022',
    legalComments: 'none',
    logLevel: 'silent',
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    charset: 'ascii',
    define: { global: 'globalThis' },
    // `punycode/` is the npm package (whatwg-url asks for it so), bundled rather than the built-in.
    external: [...NODE_BUILTINS.filter((n) => n !== 'punycode'), ...ALLOWED_LIBRARIES.filter((n) => n !== library)],
    alias: { 'node-fetch': ALIASES['node-fetch'] ?? 'node-fetch' },
    plugins: [optionalPeers],
  });
  const out = result.outputFiles[0];
  if (out === undefined) throw new CodestepError('RUNTIME_BUILD_FAILED', 'esbuild produced no output');
  return out.text;
}

/** The version of the package in `node_modules/<dir>`. */
function packageVersion(dir: string): string {
  const pkgPath = findPackageJson(dir, LIB_DIR);
  if (pkgPath === null) throw new Error(`the package ${dir} is not installed (npm install)`);
  return (JSON.parse(readFileSync(pkgPath, 'utf8')) as { version?: string }).version ?? '0.0.0';
}

/** Runs `tasks` with at most `limit` at once (esbuild uses every core for each build already). */
async function inPool(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  const queue = [...tasks];
  const run = async (): Promise<void> => {
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) await task();
  };
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, run));
}

/**
 * esbuild's module wrapper reads `Object.getOwnPropertyNames` when the bundle is evaluated: in
 * the web runtime that is a context's first use of it, after user code ran and may have replaced
 * the function, where in the prelude it was read before any user code. The prelude passes the one
 * it read at install as `module.getOwnPropertyNames`. A build fails if esbuild's helper changes.
 */
function webRuntimeHelpers(code: string): string {
  const helper = 'var __getOwnPropNames=Object.getOwnPropertyNames;';
  if (!code.startsWith(helper)) throw new Error(`the web runtime bundle no longer starts with ${helper}; update webRuntimeHelpers in runtime.build.ts`);
  return `var __getOwnPropNames=module.getOwnPropertyNames||Object.getOwnPropertyNames;${code.slice(helper.length)}`;
}

async function buildInto(dir: string, key: string): Promise<void> {
  const esbuild = await import('esbuild');
  const files: Record<string, string> = {};
  // The prelude runs in every context, so it is only `install` and its lazy definitions; the
  // modules behind them are the web runtime, evaluated in a context on first use (prelude.cjs).
  const preludeCode = await bundle(esbuild, "module.exports = require('./prelude.cjs');", { runtime: true });
  // Strict mode for all of it: no sloppy `arguments.callee.caller` walks out of a bridge callback.
  files['prelude.js'] = `(function () {\n'use strict';\nvar module = { exports: {} }, exports = module.exports;\n${preludeCode}\nreturn module.exports.install;\n})()`;
  const libraries: Record<string, string> = {};
  files[WEB_RUNTIME_FILE] = asModuleFunction(webRuntimeHelpers(await bundle(esbuild, "module.exports = require('./web-runtime.cjs');", { runtime: true })), true);
  libraries[WEB_RUNTIME_MODULE] = WEB_RUNTIME_FILE;
  files[NET_RUNTIME_FILE] = asModuleFunction(await bundle(esbuild, "module.exports = require('./net.cjs');", { runtime: true, net: true }), true);
  libraries[NET_RUNTIME_MODULE] = NET_RUNTIME_FILE;
  // Each runtime version's libraries, keyed name@version: a package two sets share is built once.
  const runtimeVersions = {} as Record<RuntimeVersion, Record<string, string>>;
  const builds = new Map<string, { name: string; dir: string }>();
  for (const runtimeVersion of RUNTIME_VERSIONS) {
    const table: Record<string, string> = {};
    for (const [name, dir] of Object.entries(RUNTIME_LIBRARY_SETS[runtimeVersion])) {
      const key = libraryKey(name, packageVersion(dir));
      table[name] = key;
      builds.set(key, { name, dir });
    }
    for (const name of DEPENDENCY_LIBRARIES) {
      const key = libraryKey(name, packageVersion(name));
      table[name] = key;
      builds.set(key, { name, dir: name });
    }
    runtimeVersions[runtimeVersion] = table;
  }
  await inPool(
    [...builds].map(([key, { name, dir }]) => async () => {
      const code = await bundle(esbuild, `module.exports = require(${JSON.stringify(dir)});`, { runtime: false, library: name });
      const file = libraryFile(key);
      files[file] = asModuleFunction(code);
      libraries[key] = file;
    }),
    2,
  );
  for (const name of NODE_BUILTIN_BUNDLES) {
    const code = await bundle(esbuild, `require('./node/host-ref.cjs').host = module.host;\nmodule.exports = require('./node/${name}.cjs');`, { runtime: false, builtin: true });
    const file = libraryFile(`builtin-${name}`);
    files[file] = asModuleFunction(code, true);
    libraries[`codestep:node-${name}`] = file;
  }
  for (const name of NODE_BUILTIN_SHIMS) {
    const file = libraryFile(`node-${name}`);
    files[file] = asModuleFunction(`module.exports = globalThis[Symbol.for('codestep.runtime')].require(${JSON.stringify(name)});`);
    libraries[name] = file;
  }
  const manifest: Manifest = { key, prelude: 'prelude.js', libraries, runtimeVersions };
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(tmp, file), text);
  await writeFile(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2));
  try {
    await rename(tmp, dir);
  } catch (error) {
    // Another process finished the same build first: keep theirs.
    await rm(tmp, { recursive: true, force: true });
    if (!existsSync(path.join(dir, 'manifest.json'))) throw error;
  }
}

/**
 * Build the runtime bundles if the cache does not hold the current key, then read them.
 *
 * @throws CodestepError `RUNTIME_BUILD_FAILED` when esbuild fails (a missing package, a bad alias).
 */
export async function buildSandboxRuntime(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const key = runtimeCacheKey();
  const dir = path.join(cacheDir, key);
  if (options.force) await rm(dir, { recursive: true, force: true });
  const cached = await readCached(dir, key);
  if (cached !== null) return { runtime: cached, dir, built: false, durationMs: performance.now() - started };
  await mkdir(cacheDir, { recursive: true });
  try {
    await buildInto(dir, key);
  } catch (error) {
    throw new CodestepError('RUNTIME_BUILD_FAILED', `building the sandbox runtime failed: ${(error as Error).message}`, { cause: error });
  }
  const runtime = await readCached(dir, key);
  if (runtime === null) throw new CodestepError('RUNTIME_BUILD_FAILED', `the sandbox runtime cache at ${dir} is unreadable after building`);
  return { runtime, dir, built: true, durationMs: performance.now() - started };
}

let loaded: Promise<SandboxRuntime> | null = null;

/**
 * The sandbox runtime, built on first use and cached (on disk, and in memory for the process).
 *
 * @throws CodestepError `RUNTIME_BUILD_FAILED` (see {@link buildSandboxRuntime}).
 */
export function loadSandboxRuntime(options: BuildOptions = {}): Promise<SandboxRuntime> {
  if (options.cacheDir !== undefined || options.force) return buildSandboxRuntime(options).then((r) => r.runtime);
  loaded ??= buildSandboxRuntime().then(
    (r) => r.runtime,
    (error: unknown) => {
      loaded = null;
      throw error;
    },
  );
  return loaded;
}
