/**
 * The master key that seals every token and secret. Distributed mode takes it from
 * configuration (`CODESTEP_MASTER_KEY`, base64 of 32 bytes); embedded mode creates one in its
 * data directory on first start and reads it back afterwards.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodestepError } from '@codestep/core';
import { MASTER_KEY_BYTES } from './secret-box.ts';

export const MASTER_KEY_FILE = 'master.key';

/**
 * Decodes a base64 (or base64url) master key.
 * @throws CodestepError `INVALID_CONFIG` unless it decodes to exactly 32 bytes.
 */
export function parseMasterKey(encoded: string, source = 'CODESTEP_MASTER_KEY'): Buffer {
  const text = encoded.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new CodestepError('INVALID_CONFIG', `${source} is not base64: generate one with \`openssl rand -base64 32\``);
  }
  const key = Buffer.from(text.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
  if (key.length !== MASTER_KEY_BYTES) {
    throw new CodestepError('INVALID_CONFIG', `${source} must decode to ${MASTER_KEY_BYTES} bytes, got ${key.length}: generate one with \`openssl rand -base64 32\``);
  }
  return key;
}

export interface MasterKeyFile {
  key: Buffer;
  path: string;
  /** True when this call created the file. */
  created: boolean;
}

/**
 * Returns the master key stored in `<dataDir>/master.key`, creating it (32 random bytes,
 * base64, mode 0600) when absent. Two processes starting at once agree on one key: the file is
 * created exclusively and the loser reads the winner's.
 * @throws CodestepError `INVALID_CONFIG` when the file exists but does not hold a valid key.
 */
export function loadOrCreateMasterKey(dataDir: string): MasterKeyFile {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, MASTER_KEY_FILE);
  try {
    writeFileSync(path, randomBytes(MASTER_KEY_BYTES).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
    // The umask cannot widen 0600, but an existing directory ACL might: make sure.
    chmodSync(path, 0o600);
    return { key: readKey(path), path, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return { key: readKey(path), path, created: false };
}

function readKey(path: string): Buffer {
  // A concurrent creator may not have written the content yet: an empty file means "wait".
  for (let attempt = 0; ; attempt++) {
    const text = readFileSync(path, 'utf8');
    if (text.trim() !== '' || attempt >= 50) return parseMasterKey(text, path);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** True when the key file can be read by users other than its owner (worth a warning). */
export function isMasterKeyFileExposed(path: string): boolean {
  return (statSync(path).mode & 0o077) !== 0;
}
