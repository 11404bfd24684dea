import assert from 'node:assert/strict';
import vm from 'node:vm';
import { describe, it } from 'node:test';
import type { ContextApi, HostBridge } from '../bridge.protocol.ts';
import { BOOTSTRAP_SOURCE } from './context-bootstrap.ts';
import { fakeHost, settleTurn } from './context/part-test-kit.ts';

function bootstrap(host = fakeHost()): { api: ContextApi; run: (source: string) => unknown } {
  const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, { codeGeneration: { strings: false, wasm: false } }) as object;
  const fn = new vm.Script(BOOTSTRAP_SOURCE, { filename: 'codestep:bootstrap' }).runInContext(context) as (bridge: HostBridge) => ContextApi;
  return { api: fn(host.bridge), run: (source) => new vm.Script(source).runInContext(context) };
}

describe('the context bootstrap', () => {
  it('is one script of function declarations, one per part, wrapped in a function of the bridge', () => {
    assert.match(BOOTSTRAP_SOURCE, /^\(function codestepBootstrap\(hostBridge\) \{/);
    for (const part of ['intrinsicsPart', 'corePart', 'consolePart', 'timersPart', 'memoryPart', 'requirePart', 'processPart', 'bridgePart', 'entryPart']) {
      assert.match(BOOTSTRAP_SOURCE, new RegExp(`\\nfunction ${part}\\(`), part);
    }
  });

  it('defines the globals in a fresh context, all of the context realm', () => {
    const { run } = bootstrap();
    const names = ['global', 'console', 'process', 'setTimeout', 'clearTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'ArrayBuffer', 'FinalizationRegistry'];
    const realmCheck = `[${names.map((n) => JSON.stringify(n)).join(',')}].every((n) => { const v = globalThis[n]; let p = v; while (p !== null && Object.getPrototypeOf(p) !== null) p = Object.getPrototypeOf(p); return p === Object.prototype; })`;
    assert.equal(run(realmCheck), true);
    assert.equal(run('global === globalThis && Object.keys(globalThis).length'), 0);
  });

  it('hands back a frozen API with a null prototype', () => {
    const { api } = bootstrap();
    assert.equal(Object.isFrozen(api), true);
    assert.equal(Object.getPrototypeOf(api), null);
    assert.deepEqual(Object.keys(api).sort(), ['describeError', 'dispatch', 'end', 'installPrelude', 'makeError', 'provideModule', 'start']);
  });

  it('runs an action and routes timer dispatches to it, then ignores dispatches after end', async () => {
    const host = fakeHost();
    const { api, run } = bootstrap(host);
    const factory = run('(function (exports) { exports.main = (event, callback) => { setTimeout(() => callback({ outputFields: { ok: true } }), 10); }; })');
    api.start('{"runtime":"hubspot","env":{}}', '{}', '{}', factory);
    assert.deepEqual(host.callsOf('timerSet'), [[1, 10, false]]);
    api.dispatch('timer', 1, '');
    await settleTurn();
    assert.deepEqual(host.callsOf('settle'), [
      ['nothing', '{}'],
      ['callback', '{"outputFields":{"ok":true}}'],
    ]);
    api.end();
    api.dispatch('timer', 1, '');
    assert.equal(host.callsOf('settle').length, 2);
  });

  it('describes a thrown value and makes platform errors of the context', () => {
    const { api, run } = bootstrap();
    const described = JSON.parse(api.describeError(run('new RangeError("x")'))) as { name: string; message: string; code: string };
    assert.deepEqual([described.name, described.message, described.code], ['RangeError', 'x', '']);
    const made = api.makeError('import() is not available');
    assert.equal(made instanceof Error, false, 'an error of the context realm, not of this one');
    assert.equal(JSON.parse(api.describeError(made)).code, 'MODULE_NOT_ALLOWED');
  });
});
