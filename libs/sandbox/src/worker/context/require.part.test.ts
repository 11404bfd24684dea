import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corePart } from './core.part.ts';
import { intrinsicsPart } from './intrinsics.part.ts';
import { fakeHost, runParts, type FakeHost } from './part-test-kit.ts';
import { requirePart, type RequirePart } from './require.part.ts';

/** A context whose host "loads" a module by providing a factory evaluated in the context. */
function contextRequire(modulesJson: string): { host: FakeHost; part: RequirePart; loads: string[] } {
  const loads: string[] = [];
  let part: RequirePart | undefined;
  let run: ((source: string) => unknown) | undefined;
  const host = fakeHost(
    {
      loadModule: (name) => {
        loads.push(name);
        part?.provide(name, run?.(`(function (module) { module.exports = { name: ${JSON.stringify(name)} }; })`));
        return true;
      },
    },
    { modulesJson },
  );
  const started = runParts((bridge) => requirePart(corePart(bridge, intrinsicsPart())), host.bridge);
  part = started.result;
  run = started.fresh.run;
  return { host, part, loads };
}

const codeOf = (error: unknown): unknown => (error as { code?: unknown }).code;

describe('the require part', () => {
  it('says why a Node built-in that actions cannot have is refused, for its subpaths and node: spelling too, and is silent for unknown names', () => {
    const { part } = contextRequire('["lodash"]');
    const messageOf = (name: string): string => {
      try {
        part.require(name);
      } catch (error) {
        assert.equal(codeOf(error), 'MODULE_NOT_ALLOWED');
        return (error as Error).message;
      }
      return 'loaded';
    };
    assert.match(messageOf('child_process'), /^Cannot require "child_process": it is not available to actions: actions cannot start processes\. Available modules: lodash$/);
    assert.match(messageOf('node:vm'), /: actions cannot compile code at run time/);
    assert.match(messageOf('worker_threads'), /: actions cannot start threads/);
    assert.match(messageOf('inspector/promises'), /: the engine's internals are not exposed/);
    assert.match(messageOf('left-pad'), /^Cannot require "left-pad": it is not available to actions\. Available/);
    assert.match(messageOf('constructor'), /^Cannot require "constructor": it is not available to actions\. Available/);
  });

  it('refuses a module outside the allow-list, naming the modules that are available', () => {
    const { part, loads } = contextRequire('["lodash","axios"]');
    assert.throws(
      () => part.require('fs'),
      (error) => codeOf(error) === 'MODULE_NOT_ALLOWED' && /Available modules: lodash, axios/.test((error as Error).message),
    );
    assert.throws(
      () => part.require('node:child_process'),
      (error) => codeOf(error) === 'MODULE_NOT_ALLOWED',
    );
    assert.throws(
      () => part.require(42),
      (error) => codeOf(error) === 'ERR_INVALID_ARG_TYPE',
    );
    assert.deepEqual(loads, []);
  });

  it('loads an allowed module once through the host and caches it, with or without node:', () => {
    const { part, loads } = contextRequire('["lodash","util"]');
    const first = part.require('lodash') as { name: string };
    assert.equal(first.name, 'lodash');
    assert.equal(part.require('lodash'), first);
    assert.equal((part.require('node:util') as { name: string }).name, 'util');
    assert.deepEqual(loads, ['lodash', 'util']);
  });

  it('fails with MODULE_LOAD_FAILED when the host cannot load an allowed module', () => {
    const host = fakeHost({ loadModule: () => false }, { modulesJson: '["lodash"]' });
    const { result } = runParts((bridge) => requirePart(corePart(bridge, intrinsicsPart())), host.bridge);
    assert.throws(
      () => result.require('lodash'),
      (error) => codeOf(error) === 'MODULE_LOAD_FAILED',
    );
  });

  it('gives internal codestep: modules to the runtime only, never through require', () => {
    const { part, loads } = contextRequire('["lodash"]');
    assert.throws(
      () => part.require('codestep:web-runtime'),
      (error) => codeOf(error) === 'MODULE_NOT_ALLOWED',
    );
    assert.equal(part.internal('lodash'), undefined);
    assert.equal(typeof part.internal('codestep:web-runtime'), 'function');
    assert.deepEqual(loads, ['codestep:web-runtime']);
  });
});
