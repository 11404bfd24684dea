import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bridgePart } from './bridge.part.ts';
import { consolePart } from './console.part.ts';
import { corePart } from './core.part.ts';
import { entryPart, type EntryPart } from './entry.part.ts';
import { inspectPart } from './inspect.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { memoryPart } from './memory.part.ts';
import { fakeHost, runParts, settleTurn, type FakeHost } from './part-test-kit.ts';
import { processPart } from './process.part.ts';
import { requirePart } from './require.part.ts';

/** Starts `code` (CommonJS) in a fresh context with the given runtime; resolves once settled. */
async function execute(code: string, runtime = 'hubspot', input = '{"n":2}', host: FakeHost = fakeHost()): Promise<{ host: FakeHost; settled: Array<[string, unknown]> }> {
  const { result, fresh } = runParts((bridge) => {
    const core = corePart(bridge, intrinsicsPart());
    const logging = consolePart(core, inspectPart(core));
    const memory = memoryPart(core);
    const modules = requirePart(core);
    const proc = processPart(core, logging, memory);
    const globals = core.G;
    globals.process = proc.process;
    return entryPart(core, logging, modules, proc, bridgePart(core, modules, memory));
  }, host.bridge);
  const factory = fresh.run(`(function (exports, require, module, __filename, __dirname) { ${code}\n})`);
  (result as EntryPart).start(JSON.stringify({ runtime, env: { API_KEY: 'secret-value' } }), input, '{"h":"v"}', factory);
  await settleTurn();
  return { host, settled: host.callsOf('settle').map(([kind, json]) => [kind as string, JSON.parse(json as string) as unknown]) };
}

describe('the entry part', () => {
  it('settles the result of an async main as complete, with the event parsed and the secrets in process.env', async () => {
    const { settled } = await execute('exports.main = async (event) => ({ outputFields: { n: event.n * 2, key: process.env.API_KEY } });');
    assert.deepEqual(settled, [['complete', { outputFields: { n: 4, key: 'secret-value' } }]]);
  });

  it('settles callback(result) and callback(null, result) as callback, and warns on a second call', async () => {
    const { settled, host } = await execute('exports.main = (event, callback) => { callback(null, { outputFields: { a: 1 } }); callback({ outputFields: { a: 2 } }); };');
    assert.deepEqual(settled, [['callback', { outputFields: { a: 1 } }]]);
    assert.deepEqual(host.callsOf('log'), [['warn', 'callback() was called more than once; only the first call counts']]);
  });

  it('settles nothing when main returns nothing', async () => {
    const { settled } = await execute('module.exports.main = async () => {};');
    assert.deepEqual(settled, [['nothing', {}]]);
  });

  it('fails with NO_ENTRY_POINT without main, and with the description of a thrown error', async () => {
    const missing = await execute('exports.handler = () => {};');
    assert.equal(missing.settled[0]?.[0], 'fail');
    assert.equal((missing.settled[0]?.[1] as { code: string }).code, 'NO_ENTRY_POINT');
    const thrown = await execute('exports.main = async () => { throw new TypeError("bad input"); };');
    assert.deepEqual(
      thrown.settled.map(([kind, d]) => [kind, (d as { name: string }).name, (d as { message: string }).message]),
      [['fail', 'TypeError', 'bad input']],
    );
  });

  it('runs a JsWorkflows class with data, headers and api, and settles its return value', async () => {
    const code = 'exports.Workflow = class Workflow { async start(data, headers, api) { return { data, headers, api: typeof api.getOAuthToken }; } };';
    const { settled } = await execute(code, 'jsworkflows', '{"d":1}');
    assert.deepEqual(settled, [['complete', { returnValue: { data: { d: 1 }, headers: { h: 'v' }, api: 'function' } }]]);
  });

  it('serialises a result exactly as JSON.stringify would, toJSON and omitted values included, up to the cap', async () => {
    const code = `exports.main = async () => ({ outputFields: { s: 'a"b', n: -1.5e-7, t: true, z: null, u: undefined, d: new Date(0), list: [1, 'x', null, { k: [] }] } });`;
    const host = fakeHost({}, { maxResultChars: 200 });
    const { settled } = await execute(code, 'hubspot', '{}', host);
    assert.deepEqual(settled, [['complete', { outputFields: { s: 'a"b', n: -1.5e-7, t: true, z: null, d: '1970-01-01T00:00:00.000Z', list: [1, 'x', null, { k: [] }] } }]]);
    const json = host.callsOf('settle')[0]?.[1] as string;
    assert.equal(json, JSON.stringify(JSON.parse(json)));
  });

  it('stops serialising as soon as the result passes the cap: a shared object graph or a toJSON billion laughs', async () => {
    const shared = "exports.main = async () => { let o = { s: 'x'.repeat(100) }; for (let i = 0; i < 60; i++) { const p = o; o = { a: p, b: p }; } return { outputFields: o }; };";
    const laughs =
      "exports.main = async () => { let laugh = { toJSON() { return 'lol'; } }; for (let i = 0; i < 60; i++) { const inner = laugh; laugh = { toJSON() { return [inner, inner, inner]; } }; } return { outputFields: { laugh } }; };";
    for (const code of [shared, laughs]) {
      const { settled } = await execute(code, 'hubspot', '{}', fakeHost({}, { maxResultChars: 10_000 }));
      assert.deepEqual(settled, [['unserialisable', { message: 'more than 10000 characters of JSON', tooLarge: true }]]);
    }
  });

  it('fails a workflow without a Workflow class with NO_ENTRY_POINT', async () => {
    const { settled } = await execute('exports.main = () => {};', 'jsworkflows');
    assert.equal((settled[0]?.[1] as { code: string }).code, 'NO_ENTRY_POINT');
  });
});
