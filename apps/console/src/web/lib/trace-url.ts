/**
 * The link from an execution to its trace in the operator's tracing UI: a URL template with
 * `{traceId}` (e.g. Jaeger's `http://localhost:16686/trace/{traceId}`), set in the console's
 * settings and kept in this browser's localStorage.
 */
import type { KeyValueStore } from './drafts.ts';

const KEY = 'codestep.traceUrlTemplate';

export function traceUrl(template: string, traceId: string): string | undefined {
  if (!template.includes('{traceId}') || !/^[0-9a-f]{32}$/i.test(traceId)) return undefined;
  const url = template.split('{traceId}').join(traceId);
  return /^https?:\/\//i.test(url) ? url : undefined;
}

export function loadTraceTemplate(store: KeyValueStore): string {
  return store.getItem(KEY) ?? '';
}

/** Keeps `template` (or forgets it when blank); refuses one that would not make an http(s) link with the trace id. */
export function saveTraceTemplate(store: KeyValueStore, template: string): string | undefined {
  const t = template.trim();
  if (!t) {
    store.removeItem(KEY);
    return undefined;
  }
  if (!traceUrl(t, '0'.repeat(32))) return 'The template must be an http(s) URL containing {traceId}, e.g. http://localhost:16686/trace/{traceId}';
  store.setItem(KEY, t);
  return undefined;
}
