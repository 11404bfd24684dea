/**
 * Hostile code against the real sandbox (host process, workers, runtime, egress). Each test
 * runs one technique and asserts three things: the attack got nothing (no object of the host
 * realm, no host data, no network reach), the failure (if any) is clear, and a well-behaved
 * execution run right after it succeeds in a clean context.
 *
 * Attack code reports what it obtained through its outputs; `FOREIGN` below is the detector it
 * uses: a value whose prototype chain does not end at the context's own `Object.prototype`
 * came from another realm, which is what every escape needs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSandbox } from './sandbox.ts';
import type { ExecutionRequest, ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest, startLocalServer, type LocalServer } from './testing/sandbox-test-kit.ts';

let sandbox: SandboxHandle;
let server: LocalServer;
const CANARY_ENV = `canary-${process.pid}-do-not-leak`;

/** In-context detector of foreign-realm values, prepended to attack code. */
const FOREIGN = `
const __OP = Object.prototype, __gp = Reflect.getPrototypeOf;
function foreign(value) {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  let p = value;
  for (let i = 0; i < 64; i++) { let next; try { next = __gp(p); } catch { return false; } if (next === null) break; p = next; }
  return p !== value && p !== __OP;
}
`;

const attack = (code: string, overrides: Partial<ExecutionRequest> = {}): Promise<ExecutionResult> =>
  sandbox.execute(hubspotRequest(FOREIGN + code, { limits: { timeoutMs: 3000, memoryMb: 64 }, ...overrides }));

/** A well-behaved execution that also checks that nothing of the previous one is left. */
async function assertHealthy(): Promise<void> {
  const result = await sandbox.execute(
    hubspotRequest(
      `exports.main = async (event) => {
        const checks = {
          objectProto: Object.getOwnPropertyNames(Object.prototype).length === 12 && ({}).polluted === undefined,
          arrayMap: [1, 2].map((x) => x * 2).join() === '2,4',
          json: JSON.stringify(JSON.parse('{"a":1}')) === '{"a":1}',
          promise: (await Promise.resolve(5)) === 5,
          globals: typeof globalThis.leak === 'undefined' && typeof console.log === 'function' && typeof require === 'function',
          event: event.object.objectType === 'CONTACT',
        };
        return { outputFields: { ok: Object.values(checks).every(Boolean), detail: JSON.stringify(checks) } };
      }`,
    ),
  );
  assert.equal(result.status, 'succeeded', `well-behaved execution after the attack: ${JSON.stringify(result.error)}`);
  assert.equal(result.outputFields.ok, true, `clean context after the attack: ${String(result.outputFields.detail)}`);
}

/** The attack ran to the end and reports it obtained nothing of the host. */
function assertNothing(result: ExecutionResult): void {
  assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
  assert.equal(result.outputFields.escaped, false, JSON.stringify(result.outputFields));
  assert.ok(!JSON.stringify(result).includes(CANARY_ENV), 'the host environment never shows');
}

before(async () => {
  process.env.CODESTEP_ATTACK_CANARY = CANARY_ENV;
  server = await startLocalServer(({ url }) => {
    if (url.startsWith('/redirect')) return { status: 302, headers: { location: decodeURIComponent(url.split('to=')[1] ?? '') }, body: '' };
    return { body: { secret: 'internal data', url } };
  });
  sandbox = await createSandbox({ poolSize: 2, egress: { allowHosts: [], mapHosts: { 'public.example.com': server.url } } });
});

after(async () => {
  await sandbox.close();
  await server.close();
  delete process.env.CODESTEP_ATTACK_CANARY;
});

describe('escapes through constructors and code generation', () => {
  it('this.constructor.constructor cannot compile code', async () => {
    const result = await attack(`exports.main = async function () {
      let got = 'nothing';
      try { got = typeof this.constructor.constructor('return process')(); } catch (e) { got = e.name + ': ' + e.message; }
      return { outputFields: { escaped: foreign(this.constructor), got } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'EvalError: Code generation from strings disallowed for this context');
    await assertHealthy();
  });

  it('the constructors of async, generator and async generator functions cannot compile code', async () => {
    const result = await attack(`exports.main = async () => {
      const ctors = [Object.getPrototypeOf(async function () {}).constructor, Object.getPrototypeOf(function* () {}).constructor, Object.getPrototypeOf(async function* () {}).constructor];
      const got = ctors.map((C) => { try { C('return process'); return 'compiled'; } catch (e) { return e.name; } });
      return { outputFields: { escaped: ctors.some(foreign), got: got.join() } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'EvalError,EvalError,EvalError');
    await assertHealthy();
  });

  it('eval and new Function are refused', async () => {
    const result = await attack(`exports.main = async () => {
      const tries = [() => eval('1 + 1'), () => (0, eval)('globalThis'), () => new Function('return 1')(), () => Function('return this')()];
      const got = tries.map((t) => { try { t(); return 'ran'; } catch (e) { return e.name; } });
      return { outputFields: { escaped: false, got: got.join() } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'EvalError,EvalError,EvalError,EvalError');
    await assertHealthy();
  });

  it('setTimeout and setInterval refuse a code string', async () => {
    const result = await attack(`exports.main = async () => {
      let got = 'ran';
      try { setTimeout('globalThis.leak = 1', 0); } catch (e) { got = e.name + ': ' + e.message; }
      try { setInterval('globalThis.leak = 1', 0); got += ' | ran'; } catch (e) { got += ' | ' + e.name; }
      await new Promise((r) => setTimeout(r, 20));
      return { outputFields: { escaped: typeof globalThis.leak !== 'undefined', got } };
    }`);
    assertNothing(result);
    assert.match(String(result.outputFields.got), /^TypeError: The "callback" argument of setTimeout must be a function \(code strings are not evaluated in actions\) \| TypeError$/);
    await assertHealthy();
  });

  it('WebAssembly is absent, so no wasm can be compiled', async () => {
    const result = await attack(`exports.main = async () => ({ outputFields: { escaped: typeof WebAssembly !== 'undefined', got: typeof WebAssembly } })`);
    assertNothing(result);
    await assertHealthy();
  });
});

describe('escapes through errors and stack traces', () => {
  it('Error.prepareStackTrace sees no host function or receiver in frames called by the host', async () => {
    const result = await attack(`exports.main = (event, callback) => {
      const found = [];
      Error.prepareStackTrace = (error, frames) => {
        for (const f of frames) { for (const v of [f.getThis(), f.getFunction()]) if (v !== undefined && foreign(v)) found.push(String(f.getFunctionName())); }
        return frames.length;
      };
      const probe = function () { return new Error('probe').stack; };
      setTimeout(function sloppyTimer() {
        const depthTimer = probe();
        fetch('https://public.example.com/x').then(() => {
          const depthFetch = probe();
          callback({ outputFields: { escaped: found.length > 0, got: found.join() + ' frames ' + depthTimer + '/' + depthFetch } });
        });
      }, 1);
    }`);
    assertNothing(result);
    await assertHealthy();
  });

  it('Error.captureStackTrace and structured frames expose nothing from the host', async () => {
    const result = await attack(`exports.main = async () => {
      const holder = {};
      Error.prepareStackTrace = (e, frames) => frames;
      Error.captureStackTrace(holder);
      const frames = holder.stack;
      const leaked = frames.flatMap((f) => [f.getThis(), f.getFunction(), f]).filter(foreign);
      return { outputFields: { escaped: leaked.length > 0 || foreign(frames), got: frames.length } };
    }`);
    assertNothing(result);
    await assertHealthy();
  });

  it('arguments.callee.caller from callbacks the host invokes reaches no host function', async () => {
    const result = await attack(`exports.main = (event, callback) => {
      const seen = [];
      function walk() { let f = arguments.callee; for (let i = 0; i < 20 && f; i++) { try { f = f.caller; } catch (e) { seen.push('threw'); break; } if (f && foreign(f)) seen.push('foreign'); } }
      setTimeout(function () { walk(); setImmediate(function () { walk(); callback({ outputFields: { escaped: seen.includes('foreign'), got: seen.join() } }); }); }, 1);
    }`);
    assertNothing(result);
    await assertHealthy();
  });

  it('a stack overflow inside a host call never hands a host error to the code', async () => {
    const result = await attack(`exports.main = async () => {
      const errors = [];
      function dive(n) { try { return dive(n + 1); } catch (e) {
        for (const poke of [() => console.log('x'), () => setTimeout(() => {}, 1), () => require('lodash'), () => Buffer.from('abc'), () => process.hrtime()]) {
          try { poke(); } catch (inner) { errors.push(inner); }
        }
        return n;
      } }
      for (let i = 0; i < 20; i++) dive(0);
      return { outputFields: { escaped: errors.some(foreign), got: errors.length } };
    }`);
    assertNothing(result);
    await assertHealthy();
  });

  it('errors raised by the platform inside the context all belong to the context', async () => {
    const result = await attack(`exports.main = async () => {
      const errors = [];
      const grab = (f) => { try { f(); } catch (e) { errors.push(e); } };
      grab(() => require('child_process').exec('cat /etc/passwd'));
      grab(() => new (require('worker_threads').Worker)('x'));
      grab(() => require('fs').readFileSync('/etc/passwd'));
      grab(() => setTimeout('x'));
      grab(() => process.exit(1));
      grab(() => process.binding('fs'));
      grab(() => new Uint8Array(-1));
      await fetch('http://127.0.0.1:1/').catch((e) => { errors.push(e, e.cause); });
      await fetch('notaurl').catch((e) => errors.push(e));
      return { outputFields: { escaped: errors.some(foreign), got: errors.length } };
    }`);
    assertNothing(result);
    assert.ok(Number(result.outputFields.got) >= 8);
    await assertHealthy();
  });
});

describe('escapes through what the host receives', () => {
  it('a Proxy returned as outputs only ever sees context values in its traps', async () => {
    const result = await attack(`exports.main = async () => {
      const seen = [];
      const handler = {};
      for (const trap of ['get', 'has', 'ownKeys', 'getOwnPropertyDescriptor', 'getPrototypeOf', 'apply', 'construct', 'set', 'defineProperty']) {
        handler[trap] = (...args) => { for (const a of args) if (foreign(a)) seen.push(trap); return Reflect[trap](...args); };
      }
      const outputs = new Proxy({ a: 1 }, handler);
      globalThis.__seen = seen;
      return new Proxy({ outputFields: outputs }, handler);
    }`);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.error));
    assert.deepEqual(result.outputFields, { a: 1 });
    await assertHealthy();
  });

  it('a thenable returned to the host gets context resolvers, and a self-resolving one just times out', async () => {
    const probe = await attack(`exports.main = async () => {
      const got = [];
      const thenable = { then(resolve, reject) { got.push(foreign(resolve), foreign(reject)); resolve({ outputFields: { escaped: got.includes(true) } }); } };
      return thenable;
    }`);
    assertNothing(probe);
    const loop = await attack(`exports.main = () => { const t = { then(r) { r(t); } }; return t; }`, { limits: { timeoutMs: 500, memoryMb: 64 } });
    assert.equal(loop.error?.code, 'TIMEOUT');
    await assertHealthy();
  });

  it('Symbol.species and a patched Promise.prototype.then capture nothing from the host', async () => {
    const result = await attack(`exports.main = async () => {
      const seen = [];
      const originalThen = Promise.prototype.then;
      Promise.prototype.then = function (...args) { for (const a of args) if (foreign(a)) seen.push('then'); return originalThen.apply(this, args); };
      class Evil extends Array { static get [Symbol.species]() { return function (...a) { for (const x of a) if (foreign(x)) seen.push('species'); return []; }; } }
      const list = Evil.from([1, 2, 3]).map((x) => x);
      Object.defineProperty(Object.prototype, 'then', { configurable: true, get() { seen.push(foreign(this) ? 'proto-then-host' : 'proto-then'); return undefined; } });
      await new Promise((r) => setTimeout(r, 10));
      await fetch('https://public.example.com/p');
      return { outputFields: { escaped: seen.some((s) => s === 'then' || s === 'species' || s === 'proto-then-host'), got: list.length } };
    }`);
    assertNothing(result);
    await assertHealthy();
  });

  it('getters and toJSON on the result run inside the context and cannot stall the host', async () => {
    const result = await attack(
      `exports.main = async () => ({ outputFields: { get value() { return foreign(this) ? 'host' : 'context'; }, toJSON() { return { escaped: foreign(this), seen: 'toJSON' }; } } })`,
    );
    assertNothing(result);
    assert.equal(result.outputFields.seen, 'toJSON');
    const failing = await attack(`exports.main = async () => ({ outputFields: { get boom() { throw new Error('getter says no'); } } })`);
    assert.equal(failing.error?.code, 'INVALID_OUTPUT');
    assert.match(failing.error?.message ?? '', /getter says no/);
    await assertHealthy();
  });

  it('an error with hostile name, message and stack still yields a clear failure', async () => {
    const result = await attack(`exports.main = async () => {
      const e = new Error('x');
      Object.defineProperty(e, 'message', { get() { throw new Error('no message for you'); } });
      Object.defineProperty(e, 'name', { get() { return { toString() { throw 1; } }; } });
      Object.defineProperty(e, 'stack', { get() { return 42; } });
      throw e;
    }`);
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.equal(typeof result.error?.message, 'string');
    await assertHealthy();
  });

  it('nothing reachable from the globals, console, process, require and the libraries belongs to the host', async () => {
    const result = await attack(
      `exports.main = async () => {
        const roots = [globalThis, console, process, require, module, exports, setTimeout(() => {}, 1)];
        for (const name of ['lodash', 'axios', 'async', 'bluebird', 'random-number-csprng', 'url', 'util', 'events', 'buffer', 'crypto', 'querystring']) roots.push(require(name));
        const seen = new Set(); const queue = [...roots]; const found = [];
        while (queue.length && seen.size < 60000) {
          const v = queue.shift();
          if ((typeof v !== 'object' && typeof v !== 'function') || v === null || seen.has(v)) continue;
          seen.add(v);
          if (foreign(v)) { found.push(Object.prototype.toString.call(v)); continue; }
          let keys = [];
          try { keys = Reflect.ownKeys(v); } catch {}
          for (const k of keys) {
            let d; try { d = Reflect.getOwnPropertyDescriptor(v, k); } catch { continue; }
            if (!d) continue;
            if ('value' in d) queue.push(d.value); else { queue.push(d.get, d.set); try { queue.push(v[k]); } catch {} }
          }
          try { queue.push(Reflect.getPrototypeOf(v)); } catch {}
        }
        return { outputFields: { escaped: found.length > 0, got: seen.size + ' objects; foreign: ' + found.slice(0, 5).join() } };
      }`,
      { limits: { timeoutMs: 15000, memoryMb: 256 } },
    );
    assertNothing(result);
    assert.ok(Number(String(result.outputFields.got).split(' ')[0]) > 1000, String(result.outputFields.got));
    await assertHealthy();
  });
});

describe('modules, built-ins and the host environment', () => {
  it('require of Node built-ins fails with MODULE_NOT_ALLOWED, whatever the spelling', async () => {
    const result = await attack(`exports.main = async () => {
      const names = ['cluster', 'node:cluster', 'module', 'vm', 'v8', 'inspector', 'repl', 'wasi', '../../../etc/passwd', '/etc/passwd', 'lodash/../fs', 'fs/../child_process', 'codestep:node-fs', 'node:codestep:node-http'];
      const got = names.map((n) => { try { require(n); return n + ':loaded'; } catch (e) { return e.code; } });
      return { outputFields: { escaped: got.some((g) => g.endsWith(':loaded')), got: [...new Set(got)].join() } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'MODULE_NOT_ALLOWED');
    await assertHealthy();
  });

  it('the load-only built-ins load, and everything in them that would act throws MODULE_NOT_ALLOWED with an error of the context', async () => {
    const result = await attack(`exports.main = async () => {
      const got = [];
      const attempt = (f) => { try { f(); got.push('ran'); } catch (e) { got.push(e.code); if (foreign(e)) got.push('foreign'); } };
      const cp = require('node:child_process');
      for (const name of ['exec', 'execSync', 'spawn', 'spawnSync', 'fork', 'execFile', 'execFileSync']) attempt(() => cp[name]('id'));
      attempt(() => new cp.ChildProcess());
      attempt(() => new (require('worker_threads').Worker)('while(1){}', { eval: true }));
      attempt(() => require('http2').connect('https://example.com'));
      attempt(() => new (require('tty').WriteStream)(1));
      const facts = [require('process') === process, require('tty').isatty(1), require('worker_threads').isMainThread, require('diagnostics_channel').channel('x').hasSubscribers, require('perf_hooks').performance === performance, require('punycode').toASCII('bücher.example')].join();
      return { outputFields: { escaped: got.some((g) => g === 'ran' || g === 'foreign'), got: [...new Set(got)].join(), facts } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'MODULE_NOT_ALLOWED');
    assert.equal(result.outputFields.facts, 'true,false,true,false,true,xn--bcher-kva.example');
    await assertHealthy();
  });

  it("the runtime's internal modules are refused by require, before and after the context loaded them", async () => {
    const result = await attack(`exports.main = async () => {
      const names = ['codestep:web-runtime', 'node:codestep:web-runtime', 'codestep:web', 'codestep:process', 'CODESTEP:WEB-RUNTIME', 'codestep:web-runtime/', 'codestep:node-zlib', 'codestep:node-http', 'codestep:node-crypto', 'codestep:net'];
      const tryAll = () => names.map((n) => { try { const m = require(n); return n + ':loaded:' + typeof m; } catch (e) { return e.code; } });
      const before = tryAll();
      const touched = typeof new TextEncoder().encode + typeof Buffer.from + typeof require('util').format + typeof require('zlib').gzipSync + typeof require('https').get + typeof require('net').connect;
      const after = tryAll();
      const got = [...before, ...after];
      return { outputFields: { escaped: got.some((g) => g.includes(':loaded')), got: [...new Set(got)].join(), touched } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'MODULE_NOT_ALLOWED');
    assert.equal(result.outputFields.touched, 'functionfunctionfunctionfunctionfunctionfunction');
    await assertHealthy();
  });

  it('import() of built-ins is rewritten to require() and refused', async () => {
    const result = await attack(`exports.main = async () => {
      const got = [];
      for (const load of [() => import('vm'), () => import('node:cluster'), () => import(/* sneaky */ 'v8')]) {
        try { const m = await load(); got.push('loaded:' + typeof m); } catch (e) { got.push(e.code); if (foreign(e)) got.push('foreign'); }
      }
      return { outputFields: { escaped: got.some((g) => g.startsWith('loaded') || g === 'foreign'), got: got.join() } };
    }`);
    assertNothing(result);
    assert.equal(result.outputFields.got, 'MODULE_NOT_ALLOWED,MODULE_NOT_ALLOWED,MODULE_NOT_ALLOWED');
    await assertHealthy();
  });

  it('process offers no binding, dlopen, main module or real pid', async () => {
    const result = await attack(`exports.main = async () => {
      const got = {
        binding: typeof process.binding, linked: typeof process._linkedBinding, dlopen: typeof process.dlopen,
        mainModule: typeof process.mainModule, moduleLoad: typeof (module.constructor && module.constructor._load),
        pid: process.pid, requireMain: typeof require.main,
      };
      return { outputFields: { escaped: false, got: JSON.stringify(got) } };
    }`);
    assertNothing(result);
    assert.deepEqual(JSON.parse(String(result.outputFields.got)), {
      binding: 'undefined',
      linked: 'undefined',
      dlopen: 'undefined',
      mainModule: 'undefined',
      moduleLoad: 'undefined',
      pid: 1,
      requireMain: 'undefined',
    });
    await assertHealthy();
  });

  it('process.env holds the selected secrets and nothing of the host environment', async () => {
    const result = await attack(
      `exports.main = async () => ({ outputFields: { escaped: Object.keys(process.env).join() !== 'ONLY_THIS', got: JSON.stringify(process.env) + String(globalThis.process === process), exact: process.env.ONLY_THIS === 'value-1234' } })`,
      { secrets: { ONLY_THIS: 'value-1234' } },
    );
    assertNothing(result);
    // Outputs equal to a selected secret are redacted before they leave the sandbox: the value is compared inside.
    assert.equal(result.outputFields.got, '{"ONLY_THIS":"[REDACTED]"}true');
    assert.equal(result.outputFields.exact, true);
    await assertHealthy();
  });
});

describe('state that could leak into the next execution', () => {
  it('prototype pollution and replaced built-ins are gone in the next execution', async () => {
    const result = await attack(`exports.main = async () => {
      Object.prototype.polluted = 'yes';
      Object.defineProperty(Object.prototype, 'isAdmin', { get() { return true; } });
      Array.prototype.map = () => ['hijacked'];
      JSON.parse = () => ({ hijacked: true });
      JSON.stringify = () => '"hijacked"';
      Promise.prototype.then = function () { return this; };
      globalThis.leak = 'from the previous tenant';
      console.log = () => {};
      return { outputFields: { escaped: false } };
    }`);
    // The platform captured the intrinsics it relies on before the code ran: even this
    // execution's own result is still serialised correctly.
    assertNothing(result);
    await assertHealthy();
  });

  it('replacing require, console and timers affects only the execution that did it', async () => {
    const result = await attack(`globalThis.require = () => ({ hijacked: true }); globalThis.setTimeout = null; delete globalThis.console;
      exports.main = async () => ({ outputFields: { escaped: false } })`);
    assertNothing(result);
    await assertHealthy();
  });

  it('a FinalizationRegistry callback cannot run code during a later execution', async () => {
    const result = await attack(`exports.main = async () => {
      const registry = new FinalizationRegistry(() => { while (true) {} });
      for (let i = 0; i < 20000; i++) registry.register({ i, pad: new Array(50).fill(i) }, i);
      return { outputFields: { escaped: false } };
    }`);
    assertNothing(result);
    const churn = await sandbox.execute(
      hubspotRequest(`exports.main = async () => { let keep = 0; for (let i = 0; i < 200; i++) keep += new Array(50000).fill(i).length; return { outputFields: { keep } } }`, {
        limits: { timeoutMs: 3000, memoryMb: 64 },
      }),
    );
    assert.equal(churn.status, 'succeeded', JSON.stringify(churn.error));
    await assertHealthy();
  });
});

describe('resource exhaustion', () => {
  it('a synchronous CPU loop ends in TIMEOUT', async () => {
    const result = await attack(`exports.main = async () => { for (;;) {} }`, { limits: { timeoutMs: 400, memoryMb: 64 } });
    assert.equal(result.error?.code, 'TIMEOUT');
    assert.match(result.error?.message ?? '', /time limit of 400 ms/);
    await assertHealthy();
  });

  it('an endless microtask loop ends in TIMEOUT', async () => {
    const result = await attack(`exports.main = async () => { for (;;) await null; }`, { limits: { timeoutMs: 400, memoryMb: 64 } });
    assert.equal(result.error?.code, 'TIMEOUT');
    await assertHealthy();
  });

  it('a microtask loop left running after returning never lets the result out, and ends in TIMEOUT', async () => {
    const before = await sandbox.stats();
    const result = await attack(`exports.main = async () => { (async () => { for (;;) await null; })(); return { outputFields: { escaped: false } }; }`, {
      limits: { timeoutMs: 500, memoryMb: 64 },
    });
    // As in Node, a thread that never yields never sends its response.
    assert.equal(result.error?.code, 'TIMEOUT');
    const later = await sandbox.stats();
    assert.ok(later.replaced > before.replaced, 'the busy worker was replaced');
    await assertHealthy();
  });

  it('Atomics.wait blocking the thread ends in TIMEOUT', async () => {
    const result = await attack(`exports.main = async () => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); }`, { limits: { timeoutMs: 400, memoryMb: 64 } });
    assert.equal(result.error?.code, 'TIMEOUT');
    await assertHealthy();
  });

  it('a heap memory bomb ends in MEMORY_LIMIT', async () => {
    const result = await attack(`exports.main = async () => { const keep = []; for (;;) keep.push({ a: new Array(1000).fill('x'), b: Math.random() }); }`, {
      limits: { timeoutMs: 10000, memoryMb: 64 },
    });
    assert.equal(result.error?.code, 'MEMORY_LIMIT');
    await assertHealthy();
  });

  it('an array-buffer bomb outside the heap ends in MEMORY_LIMIT', async () => {
    const result = await attack(`exports.main = async () => { const keep = []; for (;;) keep.push(new ArrayBuffer(16 * 1024 * 1024)); }`, {
      limits: { timeoutMs: 10000, memoryMb: 64 },
    });
    assert.equal(result.error?.code, 'MEMORY_LIMIT');
    const buffers = await attack(`exports.main = async () => { const keep = []; for (;;) keep.push(Buffer.alloc(8 * 1024 * 1024)); }`, { limits: { timeoutMs: 10000, memoryMb: 64 } });
    assert.equal(buffers.error?.code, 'MEMORY_LIMIT');
    const sneaky = await attack(
      `exports.main = async () => { const big = new Uint8Array(32 * 1024 * 1024); big.constructor = undefined; const keep = []; for (;;) keep.push(big.slice(), big.toReversed(), big.buffer.transfer ? new ArrayBuffer(8).transfer(1 << 30) : 0); }`,
      { limits: { timeoutMs: 10000, memoryMb: 64 } },
    );
    assert.equal(sneaky.error?.code, 'MEMORY_LIMIT');
    await assertHealthy();
  });

  // Every way a context can make memory outside the V8 heap. Each action holds up to 1 GiB (64 ×
  // 16 MiB) under a 64 MB limit and reports success if it got there; yielding between
  // allocations lets the collector run, which is what credits a buffer back. `constructor =
  // undefined` makes `slice` allocate with the intrinsic constructor, not the charged one.
  const offHeapPaths: Array<[string, string]> = [
    ['ArrayBuffer.prototype.slice', 'const big = new ArrayBuffer(16 << 20); big.constructor = undefined; for (let i = 0; i < 64; i++) keep.push(big.slice(0));'],
    ['ArrayBuffer.prototype.resize', 'for (let i = 0; i < 64; i++) { const b = new ArrayBuffer(0, { maxByteLength: 16 << 20 }); b.resize(16 << 20); keep.push(b); }'],
    ['ArrayBuffer.prototype.transfer without a length', 'for (let i = 0; i < 64; i++) { keep.push(new ArrayBuffer(16 << 20).transfer()); await tick(); }'],
    ['the SharedArrayBuffer constructor', 'for (let i = 0; i < 64; i++) keep.push(new SharedArrayBuffer(16 << 20));'],
    ['SharedArrayBuffer.prototype.slice', 'const big = new SharedArrayBuffer(16 << 20); big.constructor = undefined; for (let i = 0; i < 64; i++) keep.push(big.slice(0));'],
    ['SharedArrayBuffer.prototype.grow', 'for (let i = 0; i < 64; i++) { const s = new SharedArrayBuffer(0, { maxByteLength: 16 << 20 }); s.grow(16 << 20); keep.push(s); }'],
    ['typed-array constructors with a length', 'for (let i = 0; i < 64; i++) keep.push(new Float64Array(2 << 20));'],
    ['the buffer of a typed array, its view dropped', 'for (let i = 0; i < 64; i++) { keep.push(new Uint8Array(16 << 20).buffer); await tick(); }'],
    ['typed-array methods that copy', 'const big = new Uint8Array(16 << 20); for (let i = 0; i < 64; i++) { keep.push(big.with(0, 1).buffer, big.filter(() => false)); await tick(); }'],
    [
      'Buffer.allocUnsafe, Buffer.from and Buffer.concat',
      'const b = Buffer.alloc(8 << 20); for (let i = 0; i < 64; i++) { keep.push(Buffer.allocUnsafe(4 << 20).buffer, Buffer.from(b).buffer, Buffer.concat([b]).buffer); await tick(); }',
    ],
    ['TextEncoder.encode', "const s = 'x'.repeat(8 << 20); const e = new TextEncoder(); for (let i = 0; i < 64; i++) { keep.push(e.encode(s).buffer); await tick(); }"],
    ['structuredClone', 'const big = new ArrayBuffer(16 << 20); for (let i = 0; i < 64; i++) { keep.push(structuredClone(big)); await tick(); }'],
    ['Blob, Response and arrayBuffer()', 'const big = new Uint8Array(8 << 20); for (let i = 0; i < 64; i++) keep.push(await new Blob([big]).arrayBuffer(), await new Response(big).arrayBuffer());'],
  ];
  for (const [path, loop] of offHeapPaths) {
    it(`holding far more than the limit through ${path} ends in MEMORY_LIMIT`, async () => {
      const result = await attack(`exports.main = async () => { const keep = []; const tick = () => new Promise((r) => setTimeout(r, 1)); ${loop} return { outputFields: { held: keep.length } }; }`, {
        limits: { timeoutMs: 15000, memoryMb: 64 },
      });
      assert.equal(result.error?.code, 'MEMORY_LIMIT', JSON.stringify(result.error ?? result.outputFields));
      await assertHealthy();
    });
  }

  it('a string doubling bomb fails cleanly', async () => {
    const result = await attack(`exports.main = async () => { let s = 'x'; const keep = []; for (;;) { s = s + s; keep.push(s + '!'); } }`, { limits: { timeoutMs: 10000, memoryMb: 64 } });
    assert.equal(result.status, 'failed');
    assert.ok(['MEMORY_LIMIT', 'USER_CODE_ERROR'].includes(result.error?.code ?? ''), JSON.stringify(result.error));
    await assertHealthy();
  });

  it('unbounded recursion is a clear RangeError', async () => {
    const result = await attack(`exports.main = async () => { const f = (n) => f(n + 1) + 1; return f(0); }`);
    assert.equal(result.error?.code, 'USER_CODE_ERROR');
    assert.equal(result.error?.message, 'RangeError: Maximum call stack size exceeded');
    await assertHealthy();
  });

  it('a log flood is capped and the execution still succeeds', async () => {
    const result = await attack(`exports.main = async () => { for (let i = 0; i < 200000; i++) console.log('flood ' + i + ' ' + 'y'.repeat(100)); return { outputFields: { escaped: false } }; }`, {
      limits: { timeoutMs: 15000, memoryMb: 64 },
    });
    assertNothing(result);
    assert.equal(result.logsTruncated, true);
    assert.ok(JSON.stringify(result.logs).length < 80_000);
    await assertHealthy();
  });

  it('a timer flood is refused with a clear error', async () => {
    const result = await attack(`exports.main = async () => { for (let i = 0; i < 100000; i++) setTimeout(() => {}, 60000); }`);
    assert.equal(result.error?.code, 'TOO_MANY_TIMERS');
    assert.match(result.error?.message ?? '', /too many active timers/);
    await assertHealthy();
  });

  it('a promise flood ends in MEMORY_LIMIT or finishes, never hangs the host', async () => {
    const result = await attack(`exports.main = async () => { const keep = []; for (let i = 0; i < 5e7; i++) keep.push(new Promise(() => {})); return { outputFields: { escaped: false } }; }`, {
      limits: { timeoutMs: 10000, memoryMb: 64 },
    });
    assert.equal(result.error?.code, 'MEMORY_LIMIT');
    await assertHealthy();
  });

  it('an output bomb is refused with OUTPUT_VALUES_TOO_LARGE', async () => {
    const many = await attack(`exports.main = async () => { const o = {}; for (let i = 0; i < 100000; i++) o['k' + i] = 'v'.repeat(60); return { outputFields: o }; }`);
    assert.equal(many.error?.code, 'OUTPUT_VALUES_TOO_LARGE');
    assert.match(many.error?.message ?? '', /characters of JSON; the limit is/);
    const huge = await attack(`exports.main = async () => ({ outputFields: { big: 'x'.repeat(20 * 1024 * 1024) } })`, { limits: { timeoutMs: 10000, memoryMb: 256 } });
    assert.equal(huge.status, 'failed');
    assert.ok(['OUTPUT_VALUES_TOO_LARGE', 'MEMORY_LIMIT'].includes(huge.error?.code ?? ''), JSON.stringify(huge.error));
    await assertHealthy();
  });

  it('a billion-laughs result (a shared object graph, or toJSON) fails with OUTPUT_VALUES_TOO_LARGE instead of growing the worker', async () => {
    const shared = await attack(`exports.main = async () => { let o = { s: 'x'.repeat(1000) }; for (let i = 0; i < 40; i++) { const p = o; o = { a: p, b: p }; } return { outputFields: o }; }`, {
      limits: { timeoutMs: 10000, memoryMb: 64 },
    });
    assert.equal(shared.error?.code, 'OUTPUT_VALUES_TOO_LARGE', JSON.stringify(shared.error));
    assert.match(shared.error?.message ?? '', /characters of JSON; the limit is/);
    const laughs = await attack(
      `exports.main = async () => { let laugh = { toJSON() { return 'lol'.repeat(300); } }; for (let i = 0; i < 40; i++) { const inner = laugh; laugh = { toJSON() { return Array(10).fill(inner); } }; } return { outputFields: { laugh } }; }`,
      { limits: { timeoutMs: 10000, memoryMb: 64 } },
    );
    assert.equal(laughs.error?.code, 'OUTPUT_VALUES_TOO_LARGE', JSON.stringify(laughs.error));
    await assertHealthy();
  });

  it('a request flood is capped by egress', async () => {
    const before = server.requests.length;
    const result = await attack(`exports.main = async () => {
      const outcomes = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => fetch('https://public.example.com/flood/' + i)));
      const codes = {};
      for (const o of outcomes) { const k = o.status === 'fulfilled' ? 'ok' : (o.reason.cause && o.reason.cause.code) || 'error'; codes[k] = (codes[k] || 0) + 1; }
      return { outputFields: { escaped: false, got: JSON.stringify(codes) } };
    }`);
    assertNothing(result);
    const codes = JSON.parse(String(result.outputFields.got)) as Record<string, number>;
    assert.ok((codes.EGRESS_LIMIT ?? 0) > 0, JSON.stringify(codes));
    assert.ok(server.requests.length - before <= 200, 'at most the per-execution request cap reached the server');
    await assertHealthy();
  });
});

describe('server-side request forgery', () => {
  it('every spelling of loopback, private and metadata addresses is blocked, and nothing reaches them', async () => {
    const port = new URL(server.url).port;
    const before = server.requests.length;
    const targets = [
      `http://127.0.0.1:${port}/`,
      `http://localhost:${port}/`,
      `http://127.1:${port}/`,
      `http://0.0.0.0:${port}/`,
      `http://2130706433:${port}/`,
      `http://0x7f000001:${port}/`,
      `http://0177.0.0.1:${port}/`,
      `http://[::1]:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://[0:0:0:0:0:ffff:7f00:1]:${port}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://10.0.0.1/',
      'http://192.168.1.1/',
      'http://172.16.0.1/',
      'http://100.64.0.1/',
      // A redirect from an allowed (mapped) host is checked again at each hop. (A redirect to the
      // mapped backend's own origin is translated back to the mapped name by egress, so the
      // probes use other spellings of the same machine.)
      `http://public.example.com/redirect?to=${encodeURIComponent(`http://localhost:${port}/after-redirect`)}`,
      `http://public.example.com/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
      'file:///etc/passwd',
      'ftp://example.com/',
    ];
    const result = await attack(
      `exports.main = async () => {
      const reached = []; const codes = [];
      for (const url of ${JSON.stringify(targets)}) {
        try { const r = await fetch(url); const body = await r.text(); if (body.includes('internal data')) reached.push(url); } catch (e) { codes.push((e.cause && e.cause.code) || e.name); }
      }
      const axios = require('axios');
      try { await axios.get('http://127.0.0.1:${port}/via-axios'); reached.push('axios'); } catch (e) { codes.push('axios:' + ((e.cause && e.cause.code) || e.code)); }
      return { outputFields: { escaped: reached.length > 0, got: reached.join() + ' | ' + codes.join() } };
    }`,
      { limits: { timeoutMs: 15000, memoryMb: 64 } },
    );
    assertNothing(result);
    const reachedUrls = server.requests.slice(before).map((r) => r.url);
    assert.deepEqual(
      reachedUrls.filter((u) => !u.startsWith('/redirect')),
      [],
      JSON.stringify(reachedUrls),
    );
    assert.equal(server.requests.length - before, 2, 'only the two public (mapped) redirects themselves were served');
    assert.match(String(result.outputFields.got), /EGRESS_BLOCKED/);
    await assertHealthy();
  });
});
