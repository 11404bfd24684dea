import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSecretBox } from './secret-box.ts';

describe('secret box (AES-256-GCM)', () => {
  const box = createSecretBox(randomBytes(32));

  it('opens what it sealed with the same associated data', () => {
    const sealed = box.seal('pat-na1-0123456789', 'connection:t1/my-hubspot');
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    assert.equal(sealed.includes('pat-na1'), false);
    assert.equal(box.open(sealed, 'connection:t1/my-hubspot'), 'pat-na1-0123456789');
  });

  it('uses a fresh IV for every value, so equal plaintexts seal differently', () => {
    const a = box.seal('same', 'x');
    const b = box.seal('same', 'x');
    assert.notEqual(a, b);
    assert.notEqual(a.split('.')[1], b.split('.')[1]);
  });

  it('refuses a value moved to another tenant or handle (associated data mismatch)', () => {
    const sealed = box.seal('token', 'connection:t1/my-hubspot');
    assert.throws(() => box.open(sealed, 'connection:t2/my-hubspot'), { code: 'DECRYPTION_FAILED' });
    assert.throws(() => box.open(sealed, 'connection:t1/other'), { code: 'DECRYPTION_FAILED' });
  });

  it('refuses a tampered value and a value sealed under another key, without echoing it', () => {
    const sealed = box.seal('very-secret-token', 'a');
    const [v, iv, data = '', tag] = sealed.split('.');
    const flipped = `${data.startsWith('A') ? 'B' : 'A'}${data.slice(1)}`;
    assert.throws(
      () => box.open([v, iv, flipped, tag].join('.'), 'a'),
      (e: Error) => !e.message.includes('very-secret-token'),
    );
    assert.throws(() => createSecretBox(randomBytes(32)).open(sealed, 'a'), { code: 'DECRYPTION_FAILED' });
    assert.throws(() => box.open('not-sealed', 'a'), { code: 'DECRYPTION_FAILED' });
  });

  it('insists on a 32-byte key', () => {
    assert.throws(() => createSecretBox(randomBytes(16)), /must be 32 bytes/);
  });
});
