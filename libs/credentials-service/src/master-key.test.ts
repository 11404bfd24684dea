import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isMasterKeyFileExposed, loadOrCreateMasterKey, parseMasterKey } from './master-key.ts';

describe('master key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codestep-key-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is created on first start in the data directory, readable by its owner only, and reused afterwards', () => {
    const dataDir = join(dir, 'data');
    const first = loadOrCreateMasterKey(dataDir);
    assert.equal(first.created, true);
    assert.equal(first.path, join(dataDir, 'master.key'));
    assert.equal(first.key.length, 32);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    assert.equal(isMasterKeyFileExposed(first.path), false);
    assert.equal(Buffer.from(readFileSync(first.path, 'utf8').trim(), 'base64').equals(first.key), true);

    const second = loadOrCreateMasterKey(dataDir);
    assert.equal(second.created, false);
    assert.equal(second.key.equals(first.key), true);
  });

  it('refuses a key file that does not hold 32 bytes of base64', () => {
    const dataDir = join(dir, 'broken');
    loadOrCreateMasterKey(dataDir);
    writeFileSync(join(dataDir, 'master.key'), 'c2hvcnQ=\n');
    assert.throws(() => loadOrCreateMasterKey(dataDir), /must decode to 32 bytes, got 5/);
  });

  it('parses base64 and base64url keys from configuration and explains bad ones', () => {
    const raw = Buffer.alloc(32, 0xfb);
    assert.equal(parseMasterKey(raw.toString('base64')).equals(raw), true);
    assert.equal(parseMasterKey(raw.toString('base64url')).equals(raw), true);
    assert.throws(() => parseMasterKey('not base64!'), { code: 'INVALID_CONFIG', message: /CODESTEP_MASTER_KEY is not base64: generate one with `openssl rand -base64 32`/ });
    assert.throws(() => parseMasterKey(Buffer.alloc(31).toString('base64')), /must decode to 32 bytes, got 31/);
  });
});
