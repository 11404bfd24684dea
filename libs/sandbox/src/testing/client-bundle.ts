/**
 * A database client library bundled into an action's own source, for the socket tests: until
 * the runtime ships the seed libraries, this shows that the real `redis` and `mysql` packages
 * run over the sandbox's `net`/`tls`. Node built-ins the sandbox provides stay `require`s
 * (resolved by the sandbox); the few it does not provide yet are bundled from npm
 * (`string_decoder`, `stream` as readable-stream) or stubbed (`timers` as the globals, `fs`
 * empty: the clients read files only for options the tests do not use).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Esbuild from 'esbuild';

const require = createRequire(import.meta.url);
const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..', '..');
/** Built-ins the sandbox resolves itself. */
const SANDBOX_BUILTINS = ['buffer', 'crypto', 'events', 'net', 'tls', 'url', 'util', 'querystring'];

const EMPTY = 'module.exports = {};';
const stubs: Record<string, string> = {
  timers: 'module.exports = { setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate };',
  'timers/promises': 'module.exports = { setTimeout: (ms, v) => new Promise((r) => setTimeout(() => r(v), ms)), setImmediate: (v) => new Promise((r) => setImmediate(() => r(v))) };',
  os: "module.exports = { type: () => 'Linux', platform: () => 'linux', release: () => '', arch: () => 'x64', hostname: () => 'sandbox', cpus: () => [], totalmem: () => 0, freemem: () => 0, endianness: () => 'LE', EOL: '\\n' };",
  process: 'module.exports = process;',
  assert: "module.exports = Object.assign((v, m) => { if (!v) throw new Error(m || 'assertion failed'); }, { ok: (v, m) => { if (!v) throw new Error(m || 'assertion failed'); } });",
  tty: 'module.exports = { isatty: () => false };',
  punycode: 'module.exports = { toASCII: (s) => s, toUnicode: (s) => s };',
};

/** Built-ins (and optional native add-ons) the clients load but the tested paths never use. */
const NODE_ONLY = new Set([
  'fs',
  'fs/promises',
  'dns',
  'dns/promises',
  'zlib',
  'http',
  'https',
  'http2',
  'child_process',
  'async_hooks',
  'path',
  'perf_hooks',
  'diagnostics_channel',
  'v8',
  'worker_threads',
  'kerberos',
  'snappy',
  'snappy/package.json',
  '@mongodb-js/zstd',
  'bson-ext',
  'mongodb-client-encryption',
  'aws4',
  'gcp-metadata',
  'socks',
  '@aws-sdk/credential-providers',
]);

const fillIns: Esbuild.Plugin = {
  name: 'codestep-test-fill-ins',
  setup(build) {
    build.onResolve({ filter: /^(node:)?[a-z_0-9/]+$/ }, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (SANDBOX_BUILTINS.includes(name)) return { path: name, external: true };
      if (name === 'string_decoder') return { path: require.resolve('string_decoder/') };
      if (name === 'stream') return { path: require.resolve('readable-stream') };
      if (name in stubs || NODE_ONLY.has(name)) return { path: name, namespace: 'codestep-test-stub' };
      return undefined;
    });
    build.onLoad({ filter: /.*/, namespace: 'codestep-test-stub' }, (args) => ({ contents: stubs[args.path] ?? EMPTY, loader: 'js' }));
  },
};

/**
 * JavaScript text declaring `const <variable> = require(<pkg>)` inside an action, with the
 * package bundled in (its built-ins left to the sandbox's `require`).
 */
export async function bundledClient(pkg: string, variable: string): Promise<string> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: REPO_ROOT, loader: 'js' },
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    target: 'es2022',
    minify: true,
    // mysql dispatches packets by their constructor's name.
    keepNames: true,
    logLevel: 'silent',
    external: SANDBOX_BUILTINS,
    plugins: [fillIns],
  });
  const text = result.outputFiles[0]?.text ?? '';
  return `const ${variable} = (function (module) {\nvar exports = module.exports;\n${text}\nreturn module.exports;\n})({ exports: {} });\n`;
}
