/**
 * The public gRPC API's contract is enforced: proto/codestep/public passes `buf breaking` against
 * its released snapshot, and a copy broken on purpose (a field retyped, a method removed) is
 * reported while a copy with a field added is not.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { breakingChanges, root } from './events-contract.ts';
import { PUBLIC_API_PATH, RELEASED_PUBLIC_API } from './public-api-contract.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A copy of proto/ with the public API's file edited by `edit`; what buf breaking says of it. */
function editedCopy(edit: (text: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-proto-'));
  dirs.push(dir);
  cpSync(join(root, 'proto'), dir, { recursive: true });
  const path = join(dir, 'codestep/public/v1/api.proto');
  const before = readFileSync(path, 'utf8');
  const changed = edit(before);
  assert.notEqual(changed, before, 'the edit changed the file');
  writeFileSync(path, changed);
  return breakingChanges(dir, RELEASED_PUBLIC_API, PUBLIC_API_PATH);
}

describe('the public gRPC API contract', () => {
  it('has no breaking change in proto/codestep/public against the released snapshot', () => {
    assert.deepEqual(breakingChanges(join(root, 'proto'), RELEASED_PUBLIC_API, PUBLIC_API_PATH), []);
  });

  it('reports a field retyped and a method removed', () => {
    const retyped = editedCopy((t) => t.replace('  bool dry_run = 4;\n}\n\nmessage EnrollResponse', '  int32 dry_run = 4;\n}\n\nmessage EnrollResponse'));
    assert.ok(
      retyped.some((c) => c.type === 'FIELD_SAME_TYPE'),
      JSON.stringify(retyped),
    );
    const removed = editedCopy((t) => t.replace('  rpc GetEnrollment(GetEnrollmentRequest) returns (Enrollment);\n', ''));
    assert.ok(
      removed.some((c) => c.type === 'RPC_NO_DELETE'),
      JSON.stringify(removed),
    );
  });

  it('accepts a field added', () => {
    assert.deepEqual(
      editedCopy((t) => t.replace('message GetEnrollmentRequest {\n  string enrollment_id = 1;\n', 'message GetEnrollmentRequest {\n  string enrollment_id = 1;\n  bool with_logs = 2;\n')),
      [],
    );
  });
});
