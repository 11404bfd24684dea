/**
 * The action corpus (manifest.json and the actions beside it): loading, a fresh portal of the
 * HubSpot fake per run (its own token, the action's seed, injected failures for that token
 * only), the event and secrets a run gets, and the checks of outputs and CRM state after it.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HubSpotFake, SeedDocument, SeededRecord } from '@codestep/hubspot-fake';

export const CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

export type StateCheck =
  | { record: string; properties: Record<string, string | null> }
  | { find: string; where: Record<string, string>; count: number; associatedWith?: string[] }
  | { associated: [string, string] }
  | { notAssociated: [string, string] }
  | { archived: string }
  | { live: string }
  | { deleted: string }
  | { subscription: { email: string; id: string; status: string } };

export interface CorpusAction {
  id: string;
  file?: string;
  covers: string;
  needs?: string[];
  /** The action's runtime version (`--runtime-version`, the workflow's `runtimeVersion`); absent: the default, node20. */
  runtimeVersion?: string;
  object: { type: string; ref: string };
  inputFields?: Record<string, string>;
  secrets?: Record<string, string>;
  seed: SeedDocument;
  failNext?: { status: number; count: number; pathPrefix?: string };
  outputs: Record<string, string>;
  /** `error`: the code of an expected failure (`FAIL_CONTINUE`); outputs are still checked. */
  expect: { outputFields: Record<string, unknown>; executionState?: string; error?: string };
  state?: StateCheck[];
}

export function loadCorpus(): CorpusAction[] {
  const manifest = JSON.parse(readFileSync(join(CORPUS_DIR, 'manifest.json'), 'utf8')) as { actions: CorpusAction[] };
  return manifest.actions;
}

export function actionCode(action: CorpusAction): string {
  return readFileSync(join(CORPUS_DIR, action.file ?? `${action.id}.js`), 'utf8');
}

/** One run's portal on the shared fake: seeded records by ref, and the token that reaches them. */
export interface PreparedRun {
  portalId: number;
  token: string;
  refs: Record<string, SeededRecord>;
  objectId: string;
  inputFields: Record<string, string>;
  secrets: Record<string, string>;
}

let nextPortal = 300_000;

export function prepareRun(fake: HubSpotFake, action: CorpusAction, via: string): PreparedRun {
  const portalId = nextPortal++;
  const token = `pat-corpus-${via}-${portalId}`;
  fake.addPrivateAppToken(token, { portalId });
  const { refs } = fake.load(action.seed, { portalId });
  const object = refs[action.object.ref];
  if (!object) throw new Error(`${action.id}: object ref ${action.object.ref} is not seeded`);
  const resolve = (v: string) => substitute(v, refs) as string;
  const inputFields = Object.fromEntries(Object.entries(action.inputFields ?? {}).map(([k, v]) => [k, String(resolve(v))]));
  const secrets = Object.fromEntries(Object.entries(action.secrets ?? { HUBSPOT_TOKEN: '$token' }).map(([k, v]) => [k, v === '$token' ? token : v]));
  if (action.failNext) fake.failNext(action.failNext.status, action.failNext.count, { pathPrefix: action.failNext.pathPrefix ?? '/', token });
  return { portalId, token, refs, objectId: object.id, inputFields, secrets };
}

/** `$id:ref` → the id, `$num:ref` → the id as a number; anything else as is. */
export function substitute(value: unknown, refs: Record<string, SeededRecord>): unknown {
  if (typeof value !== 'string') return value;
  const m = /^\$(id|num):(.+)$/.exec(value);
  if (!m) return value;
  const record = refs[m[2] as string];
  if (!record) throw new Error(`unknown ref ${m[2]}`);
  return m[1] === 'num' ? Number(record.id) : record.id;
}

/** `~regex` matches the text of the actual value; other expected values must be equal (after substitution). */
function matches(expected: unknown, actual: unknown, refs: Record<string, SeededRecord>): boolean {
  if (typeof expected === 'string' && expected.startsWith('~')) return actual !== undefined && actual !== null && new RegExp(expected.slice(1)).test(String(actual as string));
  return JSON.stringify(substitute(expected, refs)) === JSON.stringify(actual);
}

/** Problems with the outputs, one line each (empty when they are as expected). */
export function checkOutputs(action: CorpusAction, run: PreparedRun, actual: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(action.expect.outputFields)) {
    if (!matches(expected, actual[name], run.refs)) problems.push(`output ${name}: expected ${JSON.stringify(substitute(expected, run.refs))}, got ${JSON.stringify(actual[name])}`);
  }
  const extra = Object.keys(actual).filter((k) => !(k in action.expect.outputFields));
  if (extra.length) problems.push(`unexpected outputs: ${extra.join(', ')}`);
  return problems;
}

/** Problems with the CRM state after the run, one line each. */
export function checkState(fake: HubSpotFake, action: CorpusAction, run: PreparedRun): string[] {
  const problems: string[] = [];
  const opts = { portalId: run.portalId };
  const ref = (name: string) => {
    const r = run.refs[name];
    if (!r) throw new Error(`${action.id}: unknown ref ${name} in state`);
    return r;
  };
  for (const check of action.state ?? []) {
    if ('record' in check) {
      const r = ref(check.record);
      const found = fake.get(r.objectType, r.id, opts);
      for (const [name, expected] of Object.entries(check.properties)) {
        const actual = found?.properties[name];
        const ok = expected === null ? actual === undefined : matches(expected, actual, run.refs);
        if (!ok) problems.push(`${check.record}.${name}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
      }
    } else if ('find' in check) {
      const hits = fake.list(check.find, opts).filter((o) => Object.entries(check.where).every(([k, v]) => matches(v, o.properties[k], run.refs)));
      if (hits.length !== check.count) problems.push(`${check.find} where ${JSON.stringify(check.where)}: expected ${check.count}, found ${hits.length}`);
      for (const hit of hits) {
        for (const other of check.associatedWith ?? []) {
          const r = ref(other);
          if (!fake.associatedIds({ objectType: check.find, id: hit.id }, r.objectType, opts).includes(r.id)) problems.push(`${check.find} ${hit.id} is not associated with ${other}`);
        }
      }
    } else if ('associated' in check || 'notAssociated' in check) {
      const [a, b] = 'associated' in check ? check.associated : check.notAssociated;
      const linked = fake.associatedIds(ref(a), ref(b).objectType, opts).includes(ref(b).id);
      if (linked !== 'associated' in check) problems.push(`${a} and ${b} are ${linked ? '' : 'not '}associated`);
    } else if ('archived' in check || 'live' in check) {
      const name = 'archived' in check ? check.archived : check.live;
      const found = fake.get(ref(name).objectType, ref(name).id, opts);
      if (!found || found.archived !== 'archived' in check)
        problems.push(`${name}: expected ${'archived' in check ? 'archived' : 'live'}, is ${found ? (found.archived ? 'archived' : 'live') : 'gone'}`);
    } else if ('deleted' in check) {
      if (fake.get(ref(check.deleted).objectType, ref(check.deleted).id, opts)) problems.push(`${check.deleted} still exists`);
    } else {
      const status = fake.subscriptionStatus(check.subscription.email, check.subscription.id, opts);
      if (status !== check.subscription.status) problems.push(`subscription ${check.subscription.id} of ${check.subscription.email}: ${status}`);
    }
  }
  return problems;
}

/** The HubSpot event of a run, as `codestep run --event` takes it. */
export function eventOf(action: CorpusAction, run: PreparedRun): Record<string, unknown> {
  return {
    origin: { portalId: run.portalId, actionDefinitionId: 1 },
    object: { objectType: action.object.type, objectId: Number(run.objectId) },
    inputFields: run.inputFields,
    callbackId: `ap-${run.portalId}-1-1`,
  };
}

/** Whether an action runs now: no `needs`, or every action when CODESTEP_CORPUS_ALL=1. */
export function runnable(action: CorpusAction): boolean {
  return !action.needs?.length || process.env['CODESTEP_CORPUS_ALL'] === '1';
}
