/**
 * The host side of the in-context built-ins' synchronous calls (`HostCalls.builtin` in the
 * sandbox's bridge): `op` names the operation (`crypto.*`, `zlib`), `payloadJson` its arguments
 * (bytes as base64), and the answer is one JSON string, `{ ok: true, ... }` or
 * `{ ok: false, error: { name, code, message } }`. Nothing thrown leaves; no object crosses.
 */
import { BuiltinCallError, CryptoHost } from './crypto-host.ts';
import { zlibCall } from './zlib-host.ts';

export { BuiltinCallError, CRYPTO_CAPS, CryptoHost } from './crypto-host.ts';
export { zlibCall } from './zlib-host.ts';

const MAX_ERROR_MESSAGE = 1000;

export class BuiltinHost {
  #crypto: CryptoHost | undefined;
  readonly #maxOutputBytes: number;

  /** `maxOutputBytes`: the execution's memory, the ceiling of one zlib output. */
  constructor(maxOutputBytes: number) {
    this.#maxOutputBytes = maxOutputBytes;
  }

  call(op: string, payloadJson: string): string {
    try {
      const args = JSON.parse(payloadJson) as unknown;
      if (typeof args !== 'object' || args === null) throw new BuiltinCallError('ERR_INVALID_ARG_TYPE', 'the arguments must be an object');
      const record = args as Record<string, unknown>;
      if (op === 'zlib') return JSON.stringify({ ok: true, ...zlibCall(record, this.#maxOutputBytes) });
      if (op.startsWith('crypto.')) {
        this.#crypto ??= new CryptoHost();
        return JSON.stringify({ ok: true, ...this.#crypto.call(op.slice(7), record) });
      }
      throw new BuiltinCallError('ERR_INVALID_ARG_VALUE', `unknown built-in operation ${op.slice(0, 40)}`);
    } catch (error) {
      const e = error as { name?: unknown; code?: unknown; message?: unknown };
      return JSON.stringify({
        ok: false,
        error: {
          name: typeof e.name === 'string' ? e.name : 'Error',
          code: typeof e.code === 'string' ? e.code : '',
          message: String(e.message ?? error).slice(0, MAX_ERROR_MESSAGE),
        },
      });
    }
  }

  /** Drops the execution's cipher state. */
  dispose(): void {
    this.#crypto?.dispose();
    this.#crypto = undefined;
  }
}
