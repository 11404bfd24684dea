/**
 * The published events' contract is enforced: the schemas in proto/codestep/events pass `buf breaking`
 * against the released snapshot, docs/events.md's reference is the one generated from them, and
 * copies of the schemas broken on purpose (a field removed, a field renumbered, a field retyped,
 * an event dropped from the envelope) are reported, while a copy with a field added is not.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ALL_TOPICS } from '@codestep/events';
import { EVENTS_DOC, breakingChanges, buildImage, renderReference, root, withReference, type BreakingChange } from './events-contract.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of proto/ with one file of codestep/events/v1 edited by `edit`; what buf breaking says of it. */
function breakCopy(file: string, edit: (text: string) => string): BreakingChange[] {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-proto-'));
  dirs.push(dir);
  cpSync(join(root, 'proto'), dir, { recursive: true });
  const path = join(dir, 'codestep/events/v1', file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, 'the edit changed the file');
  writeFileSync(path, after);
  return breakingChanges(dir);
}

describe('the published events contract', () => {
  it('has no breaking change in proto/codestep/events against the released snapshot', () => {
    assert.deepEqual(breakingChanges(), []);
  });

  it("keeps docs/events.md's reference equal to the one generated from the schemas", () => {
    const doc = readFileSync(EVENTS_DOC, 'utf8');
    assert.equal(withReference(doc, renderReference(buildImage())), doc, 'docs/events.md is stale: run npm run events:docs');
  });

  it('documents every topic and every event of the envelope with its key', () => {
    const reference = renderReference(buildImage());
    for (const topic of ALL_TOPICS) assert.match(reference, new RegExp(`\\| \`${topic.replaceAll('.', '\\.')}\` \\|`));
    for (const event of ['ActionSucceeded', 'EnrollmentCompleted', 'ConnectionChanged', 'TenantCreated', 'HubSpotTriggerSet']) assert.match(reference, new RegExp(`#### ${event}\\n`));
    assert.match(reference, /\| 4 \| `tenant_id` \| string \|/);
  });

  it('reports a field removed', () => {
    const changes = breakCopy('connection.proto', (t) => t.replace('  int64 expires_at = 2;\n', ''));
    assert.ok(
      changes.some((c) => c.type === 'FIELD_NO_DELETE' && c.path === 'codestep/events/v1/connection.proto' && /"expires_at" on message "ConnectionRefreshed"/.test(c.message)),
      JSON.stringify(changes),
    );
  });

  it('reports a field renumbered', () => {
    const changes = breakCopy('action.proto', (t) => t.replace('  uint32 duration_ms = 4;\n  string return_value_json = 5;', '  uint32 duration_ms = 99;\n  string return_value_json = 5;'));
    assert.ok(
      changes.some((c) => c.type === 'FIELD_NO_DELETE' && /"duration_ms" on message "ActionSucceeded"/.test(c.message)),
      JSON.stringify(changes),
    );
  });

  it('reports a field whose type changed', () => {
    const changes = breakCopy('envelope.proto', (t) => t.replace('int64 occurred_at = 6;', 'string occurred_at = 6;'));
    assert.ok(
      changes.some((c) => c.type === 'FIELD_SAME_TYPE' && /occurred_at/.test(c.message)),
      JSON.stringify(changes),
    );
  });

  it('reports an event taken out of the envelope', () => {
    const changes = breakCopy('envelope.proto', (t) => t.replace('    ConnectionRevoked connection_revoked = 53;\n', ''));
    assert.ok(
      changes.some((c) => c.type === 'FIELD_NO_DELETE' && /"connection_revoked" on message "EventEnvelope"/.test(c.message)),
      JSON.stringify(changes),
    );
  });

  it('accepts a field added', () => {
    assert.deepEqual(
      breakCopy('connection.proto', (t) => t.replace('  int64 expires_at = 2;\n', '  int64 expires_at = 2;\n  string note = 3;\n')),
      [],
    );
  });
});
