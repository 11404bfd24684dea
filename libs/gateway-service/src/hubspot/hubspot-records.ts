/**
 * The HubSpot app's consumers follow busy topics (every enrollment event, every callback outcome)
 * for a few event types: a record's `event-type` header says its type without decoding it, so
 * the others are skipped undecoded. A record without the header is decoded (and its case checked
 * by the caller as before).
 */
import { fromRecord, type Envelope } from '@codestep/events';

export function envelopesOfTypes(batch: ReadonlyArray<{ value: Uint8Array; headers?: Record<string, string> }>, types: ReadonlySet<string>): Envelope[] {
  const out: Envelope[] = [];
  for (const r of batch) {
    const type = r.headers?.['event-type'];
    if (type !== undefined && !types.has(type)) continue;
    const env = fromRecord(r.value);
    if (env) out.push(env);
  }
  return out;
}
