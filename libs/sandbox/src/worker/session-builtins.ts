/**
 * The host side of an execution's built-in modules: the synchronous `builtin` calls (crypto
 * ciphers, KDFs, signatures, zlib; `@codestep/sandbox-runtime/host`) and DNS queries under the
 * egress policy (`@codestep/egress`). Both are made on first use (most executions use neither)
 * and dropped when the execution ends; DNS queries in flight count as pending work.
 */
import type { EgressDns } from '@codestep/egress';
import { BuiltinHost } from '@codestep/sandbox-runtime/host';

export class SessionBuiltins {
  readonly #maxOutputBytes: number;
  readonly #createDns: () => EgressDns;
  #host: BuiltinHost | undefined;
  #dns: EgressDns | undefined;
  #ended = false;
  /** DNS queries started and not yet answered. */
  dnsInFlight = 0;

  constructor(maxOutputBytes: number, createDns: () => EgressDns) {
    this.#maxOutputBytes = maxOutputBytes;
    this.#createDns = createDns;
  }

  call(op: string, payloadJson: string): string {
    if (this.#ended) return '{"ok":false,"error":{"code":"ERR_SANDBOX","message":"the execution has ended"}}';
    this.#host ??= new BuiltinHost(this.#maxOutputBytes);
    return this.#host.call(op, payloadJson);
  }

  /** Answers query `id` through `deliver` (not called once the execution has ended). */
  dns(requestJson: string, deliver: (answerJson: string) => void): void {
    if (this.#ended) return;
    this.#dns ??= this.#createDns();
    this.dnsInFlight++;
    this.#dns(requestJson)
      .catch((error: unknown) => JSON.stringify({ ok: false, error: { code: 'EGRESS_NETWORK', message: String(error) } }))
      .then((answer) => {
        this.dnsInFlight--;
        if (!this.#ended) deliver(answer);
      })
      .catch(() => undefined);
  }

  end(): void {
    this.#ended = true;
    this.#host?.dispose();
    this.#host = undefined;
  }
}
