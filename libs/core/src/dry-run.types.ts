/**
 * One write a dry run held back instead of sending: recorded by the egress layer's ledger and shown
 * in the execution's history. Credentials are redacted before it is recorded.
 */
export interface DryRunWrite {
  method: string;
  /** As the code asked for it (before host mapping), credential query parameters redacted. */
  url: string;
  /** Lower-cased names, in order; credential headers' values are `[REDACTED]`. */
  headers: Array<[string, string]>;
  /** The body as UTF-8 text (or `base64:` and the bytes when it is not text), cut at the ledger's body limit. */
  body: string;
  /** The body's full size in bytes. */
  bodyBytes: number;
  /** The synthetic status it was answered with. */
  status: number;
}
