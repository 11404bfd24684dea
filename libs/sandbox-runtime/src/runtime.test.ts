/**
 * The runtime in real fresh `vm` contexts (null-prototype global, code generation and wasm off),
 * with a bridge whose fetch goes through `@codestep/egress` to a local HTTP server.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import vm from 'node:vm';
import { createEgressFetch } from '@codestep/egress';
import { buildSandboxRuntime, loadSandboxRuntime } from './runtime.build.ts';
import { RUNTIME_VERSIONS } from '@codestep/core';
import {
  ALLOWED_LIBRARIES,
  DEPENDENCY_LIBRARIES,
  NODE_PLATFORM_LIBRARIES,
  isInternalModule,
  isLibraryKey,
  NET_RUNTIME_MODULE,
  NODE_BUILTIN_BUNDLES,
  NODE_BUILTIN_SHIMS,
  WEB_RUNTIME_MODULE,
  type SandboxRuntime,
} from './runtime.types.ts';
import { startLocalApi, type LocalApi } from './testing/local-api.server.ts';
import { createRuntimeContext, ScriptCache, type RuntimeContext } from './testing/runtime-context.ts';

let runtime: SandboxRuntime;
let api: LocalApi;
const scripts = new ScriptCache();

function context(): RuntimeContext {
  const egress = createEgressFetch(
    { allowHosts: [new URL(api.url).host], mapHosts: { 'api.hubapi.com': api.url } },
    {},
    {
      beforeConnect: ({ address }) => {
        if (address !== '127.0.0.1') throw new Error(`test guard: refusing to dial ${address}`);
      },
    },
  );
  return createRuntimeContext(runtime, { scripts, fetch: async (json) => JSON.stringify(await egress(json)) });
}

before(async () => {
  runtime = await loadSandboxRuntime();
  api = await startLocalApi();
});

after(async () => {
  await api.close();
});

void describe('loadSandboxRuntime', () => {
  void it('gives a prelude, the web runtime, a bundle per built-in and a library for every allow-listed package and Node shim, and nothing for child_process or vm', () => {
    assert.match(runtime.prelude.source, /^\(function \(\) \{/);
    const bundles = NODE_BUILTIN_BUNDLES.map((name) => `codestep:node-${name}`);
    const libraryKeys = new Set(RUNTIME_VERSIONS.flatMap((v) => Object.values(runtime.runtimeVersions[v])));
    assert.deepEqual(Object.keys(runtime.libraries).sort(), [...libraryKeys, ...NODE_BUILTIN_SHIMS, WEB_RUNTIME_MODULE, NET_RUNTIME_MODULE, ...bundles].sort());
    assert.deepEqual(Object.keys(runtime.libraries).filter(isInternalModule).sort(), [WEB_RUNTIME_MODULE, NET_RUNTIME_MODULE, ...bundles].sort());
    for (const name of ['vm', 'cluster', 'v8', 'inspector']) assert.equal(runtime.libraries[name], undefined);
    // Every runtime version has every seed library and every listed dependency, keyed name@version.
    for (const v of RUNTIME_VERSIONS) assert.deepEqual(Object.keys(runtime.runtimeVersions[v]).sort(), [...ALLOWED_LIBRARIES, ...DEPENDENCY_LIBRARIES].sort());
    assert.equal(runtime.runtimeVersions.node20['@hubspot/api-client'], '@hubspot/api-client@10.2.1');
    assert.equal(runtime.runtimeVersions.node24['@hubspot/api-client'], '@hubspot/api-client@13.5.0');
    assert.match(runtime.runtimeVersions.node20.mongoose ?? '', /^mongoose@6\./);
    assert.match(runtime.runtimeVersions.node24.mongoose ?? '', /^mongoose@9\./);
    assert.equal(runtime.runtimeVersions.node20.lodash, runtime.runtimeVersions.node24.lodash, 'a package both sets share is one bundle');
    for (const script of Object.values(runtime.libraries)) assert.match(script.source, /^\(function \(module, exports, require\) \{/);
  });

  void it('reads the second time from the on-disk cache under the same key', async () => {
    const again = await buildSandboxRuntime();
    assert.equal(again.built, false);
    assert.equal(again.runtime.version, runtime.version);
    const lodash = runtime.runtimeVersions.node24.lodash ?? '';
    assert.equal(again.runtime.libraries[lodash]?.source, runtime.libraries[lodash]?.source);
  });

  void it('builds from scratch into an empty cache directory, as on a fresh clone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'codestep-runtime-test-'));
    try {
      const fresh = await buildSandboxRuntime({ cacheDir: dir });
      assert.equal(fresh.built, true);
      assert.equal(fresh.runtime.version, runtime.version);
      assert.equal(fresh.runtime.prelude.source, runtime.prelude.source);
      assert.equal((await buildSandboxRuntime({ cacheDir: dir })).built, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('installs onto the host-side contextified global as well as onto the in-context globalThis', () => {
    const sandbox = Object.create(null) as Record<string, unknown>;
    const ctx = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
    const install = new vm.Script(runtime.prelude.source).runInContext(ctx) as (g: unknown, b: unknown) => void;
    const webRuntime = new vm.Script(runtime.libraries[WEB_RUNTIME_MODULE]?.source ?? '');
    install(sandbox, { fetch() {}, randomBytes: () => 'AAAA', now: () => 0, loadModule: () => webRuntime.runInContext(ctx) });
    assert.deepEqual(
      [...(vm.runInContext(`[typeof URL, new TextDecoder().decode(new TextEncoder().encode('ok')), Array.from(crypto.getRandomValues(new Uint8Array(3))).join()]`, ctx) as string[])],
      ['function', 'ok', '0,0,0'],
    );
  });

  void it('keeps the prelude small and evaluates the web runtime in a context once, on the first use of what needs it', () => {
    assert.ok(runtime.prelude.source.length < 16 * 1024, `prelude is ${runtime.prelude.source.length} bytes`);
    assert.doesNotMatch(runtime.prelude.source, /whatwg-url|webidl/);
    assert.match(runtime.libraries[WEB_RUNTIME_MODULE]?.source ?? '', /^\(function \(module, exports, require\) \{\n'use strict';/);
    const script = new vm.Script(runtime.libraries[WEB_RUNTIME_MODULE]?.source ?? '');
    const fresh = () => {
      const ctx = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
      const install = new vm.Script(runtime.prelude.source).runInContext(ctx) as (g: unknown, b: unknown) => void;
      const loads: string[] = [];
      const loadModule = (name: string) => {
        loads.push(name);
        return script.runInContext(ctx);
      };
      install(vm.runInContext('globalThis', ctx), { fetch() {}, randomBytes: () => 'AAAA', now: () => 0, loadModule });
      return { run: (code: string) => vm.runInContext(code, ctx) as unknown, loads };
    };
    const a = fresh();
    assert.equal(a.run(`[typeof performance.now(), navigator.platform, 'URL' in globalThis && Object.getOwnPropertyDescriptor(globalThis, 'fetch').get !== undefined].join()`), 'number,linux,true');
    assert.deepEqual(a.loads, [], 'performance, navigator and typeof reads of untouched globals need no web runtime');
    assert.equal(a.run(`new URL('http://a.com/b?c=1').searchParams.get('c')`), '1');
    assert.equal(
      a.run(`[typeof fetch, Buffer.from('hi').toString('hex'), typeof crypto.subtle, globalThis[Symbol.for('codestep.runtime')].require('util').format('%s!', 'x')].join()`),
      'function,6869,object,x!',
    );
    assert.deepEqual(a.loads, [WEB_RUNTIME_MODULE]);
    const b = fresh();
    assert.equal(b.run(`globalThis[Symbol.for('codestep.runtime')].require('events').name`), 'EventEmitter');
    assert.deepEqual(b.loads, [WEB_RUNTIME_MODULE]);
  });

  void it('evaluates the web runtime with the Object.getOwnPropertyNames of install time, as when it was part of the prelude', async () => {
    const out = await context().runAsync(`
      const saved = Object.getOwnPropertyNames;
      Object.getOwnPropertyNames = () => { throw new Error('tampered'); };
      let got;
      try { got = [new URL('http://a.com/b').pathname, new TextDecoder().decode(new TextEncoder().encode('ok'))]; } finally { Object.getOwnPropertyNames = saved; }
      return got;
    `);
    assert.deepEqual(out, ['/b', 'ok']);
  });

  void it('throws an error of the context on use when the web runtime cannot be loaded, and loads it on a later use', () => {
    const ctx = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
    const install = new vm.Script(runtime.prelude.source).runInContext(ctx) as (g: unknown, b: unknown) => void;
    let available = false;
    const script = new vm.Script(runtime.libraries[WEB_RUNTIME_MODULE]?.source ?? '');
    install(vm.runInContext('globalThis', ctx), { fetch() {}, randomBytes: () => 'AAAA', now: () => 0, loadModule: () => (available ? script.runInContext(ctx) : undefined) });
    assert.equal(vm.runInContext(`try { new TextEncoder(); 'loaded' } catch (e) { (e instanceof Error) + ': ' + e.message }`, ctx), 'true: codestep runtime: the web platform modules failed to load');
    available = true;
    assert.equal(vm.runInContext(`new TextDecoder().decode(new TextEncoder().encode('ok'))`, ctx), 'ok');
  });

  void it('evaluates the prelude to an install function and each library to a module function', () => {
    const ctx = vm.createContext(Object.create(null) as object, { codeGeneration: { strings: false, wasm: false } });
    assert.equal(typeof new vm.Script(runtime.prelude.source).runInContext(ctx), 'function');
    assert.equal(typeof new vm.Script(runtime.libraries[runtime.runtimeVersions.node20.axios ?? '']?.source ?? '').runInContext(ctx), 'function');
  });
});

void describe('web globals inside a fresh context', () => {
  void it('parses and serialises URLs and search params', async () => {
    const out = await context().runAsync(`
      const u = new URL('/a b/../c?x=1&y=%20z#h', 'https://EXAMPLE.com:443');
      u.searchParams.append('q', 'ä&=');
      const p = new URLSearchParams({ a: '1', b: 'two words' });
      return { href: u.href, host: u.host, x: u.searchParams.get('x'), p: p.toString(), bad: (() => { try { new URL('nope'); } catch (e) { return e instanceof TypeError; } })(), idn: new URL('http://bücher.de').hostname };
    `);
    assert.deepEqual(out, { href: 'https://example.com/c?x=1&y=+z&q=%C3%A4%26%3D#h', host: 'example.com', x: '1', p: 'a=1&b=two+words', bad: true, idn: 'xn--bcher-kva.de' });
  });

  void it('encodes and decodes UTF-8, including surrogate pairs, streaming and fatal mode', async () => {
    const out = await context().runAsync(`
      const bytes = new TextEncoder().encode('a€😀');
      const d = new TextDecoder();
      const streamed = d.decode(bytes.subarray(0, 3), { stream: true }) + d.decode(bytes.subarray(3));
      let fatal = null;
      try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xff])); } catch (e) { fatal = e instanceof TypeError; }
      return { bytes: Array.from(bytes), streamed, lenient: new TextDecoder().decode(new Uint8Array([0x61, 0xff])), fatal, into: new TextEncoder().encodeInto('€€', new Uint8Array(4)) };
    `);
    assert.deepEqual(out, {
      bytes: Array.from(Buffer.from('a€😀')),
      streamed: 'a€😀',
      lenient: 'a\ufffd',
      fatal: true,
      into: { read: 1, written: 3 },
    });
  });

  void it('has atob, btoa and Buffer that agree with Node', async () => {
    const out = (await context().runAsync(`
      let invalid = null;
      try { btoa('€'); } catch (e) { invalid = e.name; }
      const b = Buffer.from('héllo wörld');
      return { b64: btoa('hello\\u00ff'), back: atob('aGVsbG/D'), invalid, hex: b.toString('hex'), base64: b.toString('base64'), isBuffer: Buffer.isBuffer(b), concat: Buffer.concat([Buffer.from('a'), Buffer.from([98])]).toString(), int: Buffer.from([1, 2, 3, 4]).readUInt32BE(0), sameAsModule: require('buffer').Buffer === Buffer };
    `)) as Record<string, unknown>;
    assert.deepEqual(out, {
      b64: Buffer.from('hello\u00ff', 'latin1').toString('base64'),
      back: Buffer.from('aGVsbG/D', 'base64').toString('latin1'),
      invalid: 'InvalidCharacterError',
      hex: Buffer.from('héllo wörld').toString('hex'),
      base64: Buffer.from('héllo wörld').toString('base64'),
      isBuffer: true,
      concat: 'ab',
      int: 0x01020304,
      sameAsModule: true,
    });
  });

  void it('signals aborts through AbortController, AbortSignal.abort, timeout and any', async () => {
    const out = await context().runAsync(`
      const c = new AbortController();
      const seen = [];
      c.signal.addEventListener('abort', (e) => seen.push(e.type));
      c.signal.onabort = () => seen.push('onabort');
      c.abort(new Error('why'));
      const t = AbortSignal.timeout(5);
      await new Promise((r) => t.addEventListener('abort', r));
      const any = AbortSignal.any([new AbortController().signal, AbortSignal.abort('x')]);
      let thrown = null;
      try { c.signal.throwIfAborted(); } catch (e) { thrown = e.message; }
      return { seen, aborted: c.signal.aborted, reason: c.signal.reason.message, timeout: t.reason.name, any: any.reason, thrown, defaultReason: AbortSignal.abort().reason.name };
    `);
    assert.deepEqual(out, { seen: ['abort', 'onabort'], aborted: true, reason: 'why', timeout: 'TimeoutError', any: 'x', thrown: 'why', defaultReason: 'AbortError' });
  });

  void it('has Headers, Request and Response with the body methods', async () => {
    const out = await context().runAsync(`
      const h = new Headers({ 'Content-Type': 'text/plain' });
      h.append('set-cookie', 'a=1'); h.append('Set-Cookie', 'b=2'); h.append('x-a', '1'); h.append('X-A', '2');
      const req = new Request('https://example.com/p', { method: 'post', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } });
      const res = new Response('{"ok":true}', { status: 201, headers: { 'x-y': 'z' } });
      const clone = res.clone();
      const blob = await new Response(new Blob(['ab', new Uint8Array([99])], { type: 'text/x' })).blob();
      return { get: h.get('x-a'), cookies: h.getSetCookie(), keys: [...h.keys()], method: req.method, reqBody: await req.json(), used: req.bodyUsed, status: res.status, ok: res.ok, json: await res.json(), text: await clone.text(), header: res.headers.get('X-Y'), blob: [blob.size, blob.type, await blob.text()], rj: await Response.json({ a: 1 }).text(), bytes: Array.from(new Uint8Array(await new Response(new Uint8Array([1, 2])).arrayBuffer())) };
    `);
    assert.deepEqual(out, {
      get: '1, 2',
      cookies: ['a=1', 'b=2'],
      keys: ['content-type', 'set-cookie', 'set-cookie', 'x-a'],
      method: 'POST',
      reqBody: { a: 1 },
      used: true,
      status: 201,
      ok: true,
      json: { ok: true },
      text: '{"ok":true}',
      header: 'z',
      blob: [3, 'text/x', 'abc'],
      rj: '{"a":1}',
      bytes: [1, 2],
    });
  });

  void it('fetches over the bridge: GET and POST JSON, headers, binary bodies', async () => {
    const out = (await context().runAsync(`
      const r = await fetch('${api.url}/echo?x=1', { headers: { 'x-test': 'yes' } });
      const get = await r.json();
      const p = await fetch('${api.url}/echo', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ hello: 'wörld' }) });
      const post = await p.json();
      const form = await (await fetch('${api.url}/echo', { method: 'POST', body: new URLSearchParams({ a: '1 2' }) })).json();
      const bytes = new Uint8Array(await (await fetch('${api.url}/bytes')).arrayBuffer());
      const missing = await fetch('${api.url}/status/404');
      return { status: r.status, ok: r.ok, echo: r.headers.get('x-echo'), url: r.url, query: get.query, sent: get.headers['x-test'], postBody: post.body, postType: post.headers['content-type'], form: [form.body, form.headers['content-type']], bytes: Array.from(bytes), missing: [missing.status, missing.ok, await missing.json()] };
    `)) as Record<string, unknown>;
    assert.deepEqual(out, {
      status: 200,
      ok: true,
      echo: 'yes',
      url: `${api.url}/echo?x=1`,
      query: { x: '1' },
      sent: 'yes',
      postBody: '{"hello":"wörld"}',
      postType: 'application/json',
      form: ['a=1+2', 'application/x-www-form-urlencoded;charset=UTF-8'],
      bytes: [0, 1, 2, 253, 254, 255],
      missing: [404, false, { error: 'nope' }],
    });
  });

  void it('rejects fetch with a TypeError carrying the egress code when the host refuses', async () => {
    const out = await context().runAsync(`
      try { await fetch('http://169.254.169.254/latest/meta-data/'); return 'resolved'; }
      catch (e) { return { type: e instanceof TypeError, code: e.cause.code, message: e.message }; }
    `);
    assert.equal((out as { type: boolean }).type, true);
    assert.equal((out as { code: string }).code, 'EGRESS_BLOCKED');
    assert.match((out as { message: string }).message, /^fetch failed: Request to 169\.254\.169\.254 was blocked/);
  });

  void it('rejects fetch with the abort reason when its signal aborts', async () => {
    const out = await context().runAsync(`
      const c = new AbortController();
      const p = fetch('${api.url}/echo', { signal: c.signal });
      c.abort();
      try { await p; return 'resolved'; } catch (e) { return [e.name, e instanceof DOMException]; }
    `);
    assert.deepEqual(out, ['AbortError', true]);
  });

  void it('gives random values and v4 UUIDs from the bridge, and SHA digests', async () => {
    const out = (await context().runAsync(`
      const a = crypto.getRandomValues(new Uint8Array(32));
      const b = crypto.getRandomValues(new Uint32Array(4));
      let quota = null;
      try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { quota = e.name; }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')));
      return { distinct: new Set(a).size > 8, words: b.length, uuid: crypto.randomUUID(), quota, digest: Array.from(digest, (x) => x.toString(16).padStart(2, '0')).join('') };
    `)) as Record<string, unknown>;
    assert.equal(out['distinct'], true);
    assert.equal(out['words'], 4);
    assert.match(out['uuid'] as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(out['quota'], 'QuotaExceededError');
    assert.equal(out['digest'], createHash('sha256').update('abc').digest('hex'));
  });

  void it('clones structured data with cycles and refuses functions', async () => {
    const out = await context().runAsync(`
      const o = { d: new Date(5), m: new Map([['k', new Set([1])]]), r: /x/g, u: new Uint8Array([1, 2]), e: new RangeError('bad') };
      o.self = o;
      const c = structuredClone(o);
      let refused = null;
      try { structuredClone({ f() {} }); } catch (e) { refused = e.name; }
      return { same: c === o, cycle: c.self === c, d: c.d.getTime(), m: c.m.get('k').has(1), r: String(c.r), u: Array.from(c.u), e: [c.e instanceof RangeError, c.e.message], refused };
    `);
    assert.deepEqual(out, { same: false, cycle: true, d: 5, m: true, r: '/x/g', u: [1, 2], e: [true, 'bad'], refused: 'DataCloneError' });
  });

  void it('lets user code replace a lazily defined global', async () => {
    const out = await context().runAsync(`globalThis.URL = 42; const wasSet = URL === 42; globalThis.fetch; return [wasSet, typeof fetch];`);
    assert.deepEqual(out, [true, 'function']);
  });
});

void describe("the URL parser's tr46 fast path", () => {
  // The prelude's whatwg-url gets in-context/tr46.cjs instead of tr46 (see the build): the same
  // results, without loading the mapping table for ASCII domains.
  const fromWhatwgUrl = createRequire(createRequire(import.meta.url).resolve('whatwg-url'));
  const tr46 = fromWhatwgUrl('tr46') as { toASCII: (domain: string, options?: object) => string | null };
  const shim = createRequire(import.meta.url)('./in-context/tr46.cjs') as typeof tr46;
  const parsing = { checkHyphens: false, checkBidi: true, checkJoiners: true, useSTD3ASCIIRules: false, transitionalProcessing: false, verifyDNSLength: false, ignoreInvalidPunycode: false };
  const strict = { ...parsing, checkHyphens: true, useSTD3ASCIIRules: true, verifyDNSLength: true };

  void it('rests on a fact of the mapping table: every ASCII code point is valid, but A-Z, mapped to a-z', () => {
    const table = fromWhatwgUrl('tr46/lib/mappingTable.json') as Array<[number | [number, number], number, string?]>;
    for (let cp = 0; cp < 0x80; cp++) {
      const entry = table.find(([range]) => (Array.isArray(range) ? range[0] <= cp && cp <= range[1] : range === cp));
      const upper = cp >= 0x41 && cp <= 0x5a;
      assert.deepEqual(entry?.slice(1), upper ? [1, String.fromCharCode(cp + 32)] : [2], `code point ${cp}`);
    }
  });

  void it('gives what tr46 gives, for URL parsing and strict options alike', () => {
    const domains = [
      'example.com',
      'EXAMPLE.com',
      'api.HubApi.com',
      'a_b.example',
      'a..b',
      '.',
      '',
      'x.',
      '-a-.b',
      'ab--cd.e',
      '1.2.3.4',
      'xn--bcher-kva.de',
      'XN--BCHER-KVA.de',
      'a.xn--',
      'xn--a.b',
      'xn--abc-xyz.com',
      'a.Xn--zz',
      'bücher.de',
      'BÜCHER.de',
      'faß.de',
      'ﬁ.com',
      '\u200d.com',
      'a\u05d0.com',
      'a\u0000b',
      'a%20b',
      'a b',
      '*.x',
      'a'.repeat(64) + '.com',
      'x'.repeat(300),
    ];
    for (let cp = 0; cp < 0x80; cp++) domains.push(`a${String.fromCharCode(cp)}b.test`);
    let seed = 7;
    for (let i = 0; i < 300; i++) {
      let d = '';
      for (let j = 0; j < 12; j++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        d += 'aZ.-x_n0'.charAt(seed % 8);
      }
      domains.push(d);
    }
    for (const domain of domains) {
      for (const options of [parsing, strict]) assert.equal(shim.toASCII(domain, options), tr46.toASCII(domain, options), JSON.stringify(domain));
    }
  });
});

void describe('allow-listed libraries inside a fresh context', () => {
  void it('runs lodash transforms', async () => {
    const out = await context().runAsync(`
      const _ = require('lodash');
      return { grouped: _.groupBy(['one', 'two', 'three'], 'length'), picked: _.pick({ a: 1, b: 2 }, ['a']), chain: _.chain([3, 1, 2]).sortBy().map((x) => x * 10).value(), deep: _.merge({ a: { b: 1 } }, { a: { c: 2 } }), camel: _.camelCase('Foo Bar') };
    `);
    assert.deepEqual(out, { grouped: { 3: ['one', 'two'], 5: ['three'] }, picked: { a: 1 }, chain: [10, 20, 30], deep: { a: { b: 1, c: 2 } }, camel: 'fooBar' });
  });

  void it('runs async and bluebird control flow, promisifyAll included', async () => {
    const out = await context().runAsync(`
      const async = require('async');
      const Bluebird = require('bluebird');
      const limited = await async.mapLimit([1, 2, 3, 4], 2, async (x) => x * 2);
      const series = await new Promise((resolve, reject) => async.series([(cb) => cb(null, 'a'), (cb) => setTimeout(() => cb(null, 'b'), 1)], (err, r) => (err ? reject(err) : resolve(r))));
      const mapped = await Bluebird.map([1, 2, 3], (x) => Bluebird.delay(1).then(() => x + 1), { concurrency: 2 });
      const api = Bluebird.promisifyAll({ get(x, cb) { cb(null, x * 3); } });
      return { limited, series, mapped, promisified: await api.getAsync(5), props: await Bluebird.props({ a: Bluebird.resolve(1) }) };
    `);
    assert.deepEqual(out, { limited: [2, 4, 6, 8], series: ['a', 'b'], mapped: [2, 3, 4], promisified: 15, props: { a: 1 } });
  });

  void it('draws cryptographically random integers with random-number-csprng', async () => {
    const out = (await context().runAsync(`
      const rnd = require('random-number-csprng');
      const values = [];
      for (let i = 0; i < 20; i++) values.push(await rnd(10, 30));
      return values;
    `)) as number[];
    assert.equal(out.length, 20);
    for (const v of out) assert.ok(Number.isInteger(v) && v >= 10 && v <= 30, `${v} in [10, 30]`);
    assert.ok(new Set(out).size > 1);
  });

  void it('does GET and POST JSON with axios and surfaces error.response.status', async () => {
    const out = await context().runAsync(`
      const axios = require('axios');
      const get = await axios.get('${api.url}/echo', { params: { q: 'a b' }, headers: { 'x-test': 'ax' } });
      const post = await axios.post('${api.url}/echo', { name: 'Ada' });
      let error = null;
      try { await axios.get('${api.url}/status/404'); } catch (e) { error = { status: e.response.status, data: e.response.data, isAxios: e.isAxiosError }; }
      const client = axios.create({ baseURL: '${api.url}', timeout: 5000 });
      const put = await client.put('/echo', 'plain', { headers: { 'content-type': 'text/plain' } });
      return { status: get.status, query: get.data.query, header: get.data.headers['x-test'], postBody: JSON.parse(post.data.body), postType: post.data.headers['content-type'], error, put: [put.data.method, put.data.body] };
    `);
    assert.deepEqual(out, {
      status: 200,
      query: { q: 'a b' },
      header: 'ax',
      postBody: { name: 'Ada' },
      postType: 'application/json',
      error: { status: 404, data: { error: 'nope' }, isAxios: true },
      put: ['PUT', 'plain'],
    });
  });

  void it('runs the HubSpot client: getById, create, update, search, and a 404 with code 404', async () => {
    const before = api.requests.length;
    const out = await context().runAsync(`
      const hubspot = require('@hubspot/api-client');
      const client = new hubspot.Client({ accessToken: 'pat-test-token' });
      const got = await client.crm.contacts.basicApi.getById('1', ['email']);
      const created = await client.crm.contacts.basicApi.create({ properties: { email: 'grace@example.com', firstname: 'Grace' }, associations: [] });
      const updated = await client.crm.contacts.basicApi.update(created.id, { properties: { firstname: 'Amazing Grace' } });
      const found = await client.crm.contacts.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'grace@example.com' }] }], properties: ['email'], limit: 10, after: '0', sorts: [] });
      let missing = null;
      try { await client.crm.contacts.basicApi.getById('999', ['email']); } catch (e) { missing = { code: e.code, category: e.body && e.body.category, message: String(e.message).split(String.fromCharCode(10))[0] }; }
      return { email: got.properties.email, gotId: got.id, createdAt: got.createdAt instanceof Date, createdEmail: created.properties.email, updated: updated.properties.firstname, total: found.total, foundId: found.results[0].id === created.id, missing };
    `);
    assert.deepEqual(out, {
      email: 'ada@example.com',
      gotId: '1',
      createdAt: true,
      createdEmail: 'grace@example.com',
      updated: 'Amazing Grace',
      total: 1,
      foundId: true,
      missing: { code: 404, category: 'OBJECT_NOT_FOUND', message: 'HTTP-Code: 404' },
    });
    const calls = api.requests.slice(before);
    assert.equal(calls[0]?.path, '/crm/v3/objects/contacts/1?properties=email');
    assert.equal(calls[0]?.headers.authorization, 'Bearer pat-test-token');
  });
});

void describe('Node built-in shims', () => {
  void it('hashes and HMACs like node:crypto for every supported digest and input length', async () => {
    const ctx = context();
    const lengths = [0, 1, 55, 56, 63, 64, 111, 112, 127, 128, 129, 1000];
    for (const algo of ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']) {
      const out = (await ctx.runAsync(`
        const c = require('crypto');
        return ${JSON.stringify(lengths)}.map((n) => { const data = 'x'.repeat(n); return [c.createHash('${algo}').update(data).digest('hex'), c.createHmac('${algo}', 'k'.repeat(n % 200)).update(data).digest('base64')]; });
      `)) as Array<[string, string]>;
      lengths.forEach((n, i) => {
        const data = 'x'.repeat(n);
        assert.deepEqual(
          out[i],
          [
            createHash(algo).update(data).digest('hex'),
            createHmac(algo, 'k'.repeat(n % 200))
              .update(data)
              .digest('base64'),
          ],
          `${algo} at ${n} bytes`,
        );
      });
    }
  });

  void it('gives random bytes, ints and timing-safe comparison from the crypto shim', async () => {
    const out = await context().runAsync(`
      const c = require('crypto');
      const viaCallback = await new Promise((r) => c.randomBytes(8, (e, b) => r(b.length)));
      const ints = Array.from({ length: 50 }, () => c.randomInt(3, 6));
      return { len: c.randomBytes(16).length, isBuffer: Buffer.isBuffer(c.randomBytes(1)), viaCallback, inRange: ints.every((x) => x >= 3 && x < 6), equal: c.timingSafeEqual(Buffer.from('ab'), Buffer.from('ab')), unequal: c.timingSafeEqual(Buffer.from('ab'), Buffer.from('ac')) };
    `);
    assert.deepEqual(out, { len: 16, isBuffer: true, viaCallback: 8, inRange: true, equal: true, unequal: false });
  });

  void it('has util, url, querystring and events that behave like Node for common calls', async () => {
    const out = await context().runAsync(`
      const util = require('util'); const url = require('url'); const qs = require('querystring'); const EventEmitter = require('events');
      const e = new EventEmitter(); const got = []; e.on('x', (v) => got.push(v)); e.once('x', (v) => got.push('once:' + v)); e.emit('x', 1); e.emit('x', 2);
      const sleep = util.promisify((ms, cb) => setTimeout(() => cb(null, 'slept'), ms));
      const parsed = url.parse('https://user:pw@Example.com:8443/p/a?x=1&x=2#frag', true);
      return {
        format: util.format('%s has %d items: %j', 'cart', 3, { a: 1 }),
        inspect: util.inspect({ a: [1, { b: new Map([[1, 'x']]) }], s: 'str' }),
        inspectDeep: util.inspect({ a: [1, { b: new Map([[1, 'x']]) }] }, { depth: 5 }),
        promisified: await sleep(1),
        parsed: [parsed.hostname, parsed.port, parsed.pathname, parsed.query.x, parsed.auth, parsed.hash],
        formatted: url.format({ protocol: 'https', hostname: 'a.com', pathname: '/x', query: { q: 'a b' } }),
        resolved: url.resolve('http://a.com/b/c', '../d'),
        whatwg: new url.URL('http://a.com/x').pathname,
        qs: [qs.stringify({ a: [1, 2], b: 'c d' }), qs.parse('a=1&a=2&b=x%20y')],
        events: got,
        deep: util.isDeepStrictEqual({ a: [1] }, { a: [1] }),
      };
    `);
    assert.deepEqual(out, {
      format: 'cart has 3 items: {"a":1}',
      inspect: "{ a: [ 1, { b: [Map] } ], s: 'str' }",
      inspectDeep: "{ a: [ 1, { b: Map(1) { 1 => 'x' } } ] }",
      promisified: 'slept',
      parsed: ['example.com', '8443', '/p/a', ['1', '2'], 'user:pw', '#frag'],
      formatted: 'https://a.com/x?q=a%20b',
      resolved: 'http://a.com/d',
      whatwg: '/x',
      qs: ['a=1&a=2&b=c%20d', { a: ['1', '2'], b: 'x y' }],
      events: [1, 'once:1', 2],
      deep: true,
    });
  });
});

/**
 * Walks everything reachable from the context's globals and the library exports (own
 * properties, getters and setters as functions, prototypes) and reports any object whose
 * prototype chain does not end at this context's Object.prototype: a host-realm object.
 */
const CRAWLER = `(function crawl(roots, limit) {
  'use strict';
  const root = Object.prototype;
  const seen = new Set();
  const queue = roots.slice();
  const foreign = [];
  while (queue.length && seen.size < limit) {
    const [path, value] = queue.shift();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) continue;
    seen.add(value);
    let p = value;
    let depth = 0;
    while (Object.getPrototypeOf(p) !== null && depth++ < 100) p = Object.getPrototypeOf(p);
    // A chain ending elsewhere, or a null-prototype object that is itself another realm's
    // Object.prototype, is foreign; its insides are not walked (they are all foreign too).
    if ((p !== root && p !== value) || (p === value && value !== root && Object.getOwnPropertyNames(value).includes('__defineGetter__'))) {
      foreign.push(path);
      continue;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== null) queue.push([path + '.__proto__', proto]);
    for (const key of Reflect.ownKeys(value)) {
      const d = Object.getOwnPropertyDescriptor(value, key);
      const name = path + '.' + String(key);
      if (!d) continue;
      if ('value' in d) queue.push([name, d.value]);
      if (d.get) queue.push([name + '<get>', d.get]);
      if (d.set) queue.push([name + '<set>', d.set]);
    }
  }
  return { visited: seen.size, foreign: foreign.slice(0, 20) };
})`;

/**
 * What the isolation crawl requires in its bare test context: the built-ins, the browser-built
 * libraries and the dependencies. The Node-built seed libraries (mongoose, aws-sdk, ...) need
 * the sandbox's global `process`, which this context lacks; the sandbox's own attack tests load them.
 */
const requirableInTestContext = (): string[] => [
  ...Object.keys(runtime.libraries).filter((name) => !isInternalModule(name) && !isLibraryKey(name)),
  ...Object.keys(runtime.runtimeVersions.node24).filter((name) => !NODE_PLATFORM_LIBRARIES.has(name)),
];

void describe('isolation', () => {
  void it('reaches no host-realm object from any global, shim or library export', async () => {
    const ctx = context();
    await ctx.runAsync(`
      // Touch everything so lazily built values exist, and keep results of each shim around.
      globalThis.__probe = {
        url: new URL('http://a.com/?x=1'), params: new URL('http://a.com/?x=1').searchParams, enc: new TextEncoder().encode('x'), dec: new TextDecoder(),
        buf: Buffer.from('x'), rnd: crypto.getRandomValues(new Uint8Array(4)), uuid: crypto.randomUUID(), ctrl: new AbortController(),
        res: await fetch('${api.url}/echo'), err: await fetch('http://10.0.0.1/').catch((e) => e), digest: await crypto.subtle.digest('SHA-1', new Uint8Array(1)),
        nodeCrypto: require('crypto').randomBytes(4), hash: require('crypto').createHash('sha1'), perf: performance.now(),
        hubspot: new (require('@hubspot/api-client').Client)({ accessToken: 'x' }), axiosRes: await require('axios').get('${api.url}/echo'),
        csprng: await require('random-number-csprng')(1, 2),
      };
      for (const name of ${JSON.stringify(requirableInTestContext())}) globalThis.__probe['lib:' + name] = require(name);
    `);
    const result = vm.runInContext(
      `${CRAWLER}(Reflect.ownKeys(globalThis).map((k) => [String(k), globalThis[k]]).concat([['runtime', globalThis[Symbol.for('codestep.runtime')]]]), 400000)`,
      ctx.context,
    ) as { visited: number; foreign: string[] };
    assert.deepEqual([...result.foreign], [], `host objects reachable: ${result.foreign.join(', ')}`);
    assert.ok(result.visited > 2000, `crawled ${result.visited} objects`);
  });

  void it('the isolation crawl does catch a host object when one is planted (negative control)', () => {
    const ctx = context();
    vm.runInContext('(function (x) { globalThis.planted = { deep: [x] }; })', ctx.context)({ host: true });
    const result = vm.runInContext(`${CRAWLER}([['planted', globalThis.planted]], 1000)`, ctx.context) as { foreign: string[] };
    assert.deepEqual([...result.foreign], ['planted.deep.0']);
  });

  void it('keeps the bridge out of reach and string code generation off', async () => {
    const out = await context().runAsync(`
      const attempts = [];
      for (const f of [fetch, crypto.getRandomValues, performance.now, require('crypto').randomBytes]) {
        try { f.constructor('return process')(); attempts.push('escaped'); } catch (e) { attempts.push(e.name); }
      }
      const names = Reflect.ownKeys(globalThis).map(String);
      // Strict-mode functions refuse .caller, so no caller chain leads from a callback to the host.
      const strict = [fetch, Headers.prototype.get, crypto.getRandomValues, require('crypto').createHash].map((f) => { try { return f.caller === undefined ? 'undefined' : 'readable'; } catch (e) { return e.name; } });
      return { attempts, strict, bridgeVisible: names.some((n) => /bridge/i.test(n)), processDefined: typeof process };
    `);
    assert.deepEqual(out, {
      attempts: ['EvalError', 'EvalError', 'EvalError', 'EvalError'],
      strict: ['TypeError', 'TypeError', 'TypeError', 'TypeError'],
      bridgeVisible: false,
      processDefined: 'undefined',
    });
  });
});

void describe('code cache', () => {
  void it('compiles the prelude and the HubSpot bundle from V8 code cache in a new context and they still work', async () => {
    const warm = new ScriptCache();
    const first = createRuntimeContext(runtime, { scripts: warm });
    await first.runAsync(`require('@hubspot/api-client'); require('lodash'); return null;`);
    const cachedData = warm.createCachedData();
    const fromCache = new ScriptCache(cachedData);
    const egress = createEgressFetch({ allowHosts: [], mapHosts: { 'api.hubapi.com': api.url } });
    const second = createRuntimeContext(runtime, { scripts: fromCache, fetch: async (json) => JSON.stringify(await egress(json)) });
    const out = await second.runAsync(`
      const client = new (require('@hubspot/api-client').Client)({ accessToken: 't' });
      return [(await client.crm.contacts.basicApi.getById('1')).properties.email, require('lodash').kebabCase('A B')];
    `);
    assert.deepEqual(out, ['ada@example.com', 'a-b']);
    assert.ok(fromCache.fromCache.has(runtime.prelude.filename), 'prelude compiled from cache');
    assert.ok(fromCache.fromCache.has(runtime.libraries[runtime.runtimeVersions.node24['@hubspot/api-client'] ?? '']?.filename ?? ''), 'HubSpot bundle compiled from cache');
  });
});
