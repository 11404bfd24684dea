/**
 * The error the parts of the egress fetch throw among themselves. It never leaves the lib: the
 * fetch turns it into `{ ok: false, error: { code, message } }` at its edge.
 */
import type { EgressErrorCode } from './egress.types.ts';

/** A failure with one of the stable egress codes. */
export class EgressError extends Error {
  readonly code: EgressErrorCode;
  constructor(code: EgressErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
