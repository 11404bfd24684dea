/**
 * The corpus manifest is consistent: every action file exists and is used, every ref an entry
 * names is seeded, outputs are declared with platform types, `needs` use the known labels, and
 * there are 40+ actions with at least one for each pattern issue 12 lists.
 */
import assert from 'node:assert/strict';
import { ACCEPTED_RUNTIME_VERSIONS } from '@codestep/core';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CORPUS_DIR, loadCorpus, type CorpusAction } from './corpus.ts';

const NEEDS = new Set(['runtime-node20', 'event.fields', 'object-outputs', 'builtin:https', 'builtin:http', 'builtin:dns', 'builtin:fs', 'sockets']);
const TYPES = new Set(['string', 'number', 'boolean', 'datetime', 'date', 'enum', 'phone_number']);
const PATTERNS = [
  'associations lookup',
  'owner assignment',
  'deal',
  'line item',
  'engagements',
  'batch update',
  'dedupe',
  'date formatting',
  '429',
  'callback style',
  'event.fields',
  'object outputs',
  'custom objects',
  'HubDB',
  'legacy v1',
  'GDPR',
  'communication preferences',
  'pipelines',
  'propertiesWithHistory',
  'merge',
];

function refsOf(action: CorpusAction): Set<string> {
  const refs = new Set<string>();
  for (const items of Object.values(action.seed.objects ?? {})) for (const item of items) if (typeof item['ref'] === 'string') refs.add(item['ref']);
  return refs;
}

function namedRefs(action: CorpusAction): string[] {
  const names = [action.object.ref, ...(action.seed.associations ?? []).flatMap((a) => [a.from, a.to])];
  const text = JSON.stringify([action.inputFields, action.expect, action.state]);
  for (const m of text.matchAll(/\$(?:id|num):([\w-]+)/g)) names.push(m[1] as string);
  for (const check of action.state ?? []) {
    for (const [key, value] of Object.entries(check)) {
      if (['record', 'archived', 'live', 'deleted'].includes(key)) names.push(value as string);
      if (key === 'associated' || key === 'notAssociated') names.push(...(value as string[]));
    }
    if ('associatedWith' in check) names.push(...(check.associatedWith ?? []));
  }
  return names;
}

describe('the HubSpot action corpus manifest', () => {
  const corpus = loadCorpus();

  it('has 40+ actions, unique ids, and uses every action file', () => {
    assert.ok(corpus.filter((a) => !a.needs).length >= 40, 'at least 40 actions run today');
    assert.equal(new Set(corpus.map((a) => a.id)).size, corpus.length);
    const files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.js'));
    const used = new Set(corpus.map((a) => a.file ?? `${a.id}.js`));
    assert.deepEqual(
      files.filter((f) => !used.has(f)),
      [],
      'unused action files',
    );
    assert.deepEqual(
      [...used].filter((f) => !files.includes(f)),
      [],
      'missing action files',
    );
  });

  it('names only seeded refs, declares outputs with platform types, and only known needs', () => {
    for (const action of corpus) {
      const refs = refsOf(action);
      for (const name of namedRefs(action)) assert.ok(refs.has(name), `${action.id}: ref ${name} is not seeded`);
      for (const [name, type] of Object.entries(action.outputs)) assert.ok(TYPES.has(type), `${action.id}: output ${name} has type ${type}`);
      assert.deepEqual(Object.keys(action.expect.outputFields).sort(), Object.keys(action.outputs).sort(), `${action.id}: expected outputs are the declared ones`);
      for (const need of action.needs ?? []) assert.ok(NEEDS.has(need), `${action.id}: unknown need ${need}`);
      if (action.runtimeVersion !== undefined) assert.ok(ACCEPTED_RUNTIME_VERSIONS.includes(action.runtimeVersion), `${action.id}: unknown runtimeVersion ${action.runtimeVersion}`);
    }
  });

  it('covers every pattern issue 12 lists', () => {
    const covered = corpus.map((a) => a.covers.toLowerCase()).join(' | ');
    for (const pattern of PATTERNS) assert.ok(covered.includes(pattern.toLowerCase()), `no action covers ${pattern}`);
  });
});
