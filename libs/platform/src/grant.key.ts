/**
 * The key signing execution grants, held by the enrollment service (which signs) and the OAuth
 * broker (which checks) only. Distributed mode takes it from `CODESTEP_GRANT_KEY`; otherwise, as
 * for the master key, it lives in the data directory (`grant.key`, created on first start, mode
 * 0600), so embedded mode needs nothing.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GRANT_KEY_BYTES, parseGrantKey } from '@codestep/core';
import type { PlatformConfig } from './platform.config.ts';

export const GRANT_KEY_FILE = 'grant.key';

/** The grant key of the configuration, or of the data directory (created when absent). */
export function grantKeyOf(config: PlatformConfig): Buffer {
  if (config.grantKey) return parseGrantKey(config.grantKey);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const path = join(config.dataDir, GRANT_KEY_FILE);
  try {
    writeFileSync(path, randomBytes(GRANT_KEY_BYTES).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A concurrent creator may not have written the content yet: an empty file means "wait".
  for (let attempt = 0; ; attempt++) {
    const text = readFileSync(path, 'utf8');
    if (text.trim() !== '' || attempt >= 50) return parseGrantKey(text, path);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}
