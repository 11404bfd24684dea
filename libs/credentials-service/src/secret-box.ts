/**
 * Encryption at rest for tokens and secrets: AES-256-GCM under the master key, a random 96-bit
 * IV per value, and associated data naming the owner (say `connection:<tenant>/<handle>`), so a
 * sealed value copied onto another tenant's or handle's record fails to open instead of leaking.
 *
 * Sealed format: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CodestepError } from '@codestep/core';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const MASTER_KEY_BYTES = 32;

export interface SecretBox {
  /** Encrypts `plaintext` bound to `aad`; every call uses a fresh IV. */
  seal(plaintext: string, aad: string): string;
  /**
   * Decrypts a value sealed with the same key and `aad`.
   * @throws CodestepError `DECRYPTION_FAILED` when the key, the aad or the value do not match.
   */
  open(sealed: string, aad: string): string;
}

export function createSecretBox(masterKey: Uint8Array): SecretBox {
  if (masterKey.byteLength !== MASTER_KEY_BYTES) {
    throw new CodestepError('INVALID_CONFIG', `the master key must be ${MASTER_KEY_BYTES} bytes, got ${masterKey.byteLength}`);
  }
  // A private copy: the caller's buffer may be reused or zeroed.
  const key = Buffer.from(masterKey);
  return {
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, aad) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== VERSION) throw decryptionFailed();
      const [, ivPart, dataPart, tagPart] = parts as [string, string, string, string];
      const iv = Buffer.from(ivPart, 'base64url');
      const tag = Buffer.from(tagPart, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw decryptionFailed();
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(Buffer.from(dataPart, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw decryptionFailed();
      }
    },
  };
}

function decryptionFailed(): CodestepError {
  // Deliberately says nothing about the value: the message may reach logs.
  return new CodestepError('DECRYPTION_FAILED', 'a stored credential could not be decrypted: the master key changed or the record was tampered with');
}
