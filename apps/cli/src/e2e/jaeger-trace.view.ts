/**
 * A trace as Jaeger's query API returns it (`GET /api/traces/{id}`), drawn as Jaeger's UI draws
 * one: a row per span in tree order, its service and operation on the left, its bar on a shared
 * time axis on the right. Used for the README's screenshot when the Jaeger binary has no UI assets.
 */

/** The parts of Jaeger's JSON trace (`/api/traces/{id}` `data[0]`) this uses. */
export interface JaegerTrace {
  traceID: string;
  spans: Array<{
    spanID: string;
    operationName: string;
    references: Array<{ refType: string; spanID: string }>;
    /** Microseconds since the epoch. */
    startTime: number;
    /** Microseconds. */
    duration: number;
    tags: Array<{ key: string; value: unknown }>;
    processID: string;
  }>;
  processes: Record<string, { serviceName: string }>;
}

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const KIND_COLOURS: Record<string, string> = { server: '#17b8be', client: '#f8dca1', producer: '#b7885e', consumer: '#c39bd3', internal: '#8fa6d9' };

/** A self-contained HTML page of the trace (`source` is printed as where it came from). */
export function traceWaterfallHtml(trace: JaegerTrace, options: { source: string }): string {
  const children = new Map<string, JaegerTrace['spans']>();
  const ids = new Set(trace.spans.map((s) => s.spanID));
  const roots: JaegerTrace['spans'] = [];
  for (const s of [...trace.spans].sort((a, b) => a.startTime - b.startTime)) {
    const parent = s.references.find((r) => r.refType === 'CHILD_OF' && ids.has(r.spanID))?.spanID;
    if (parent === undefined) roots.push(s);
    else children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const ordered: Array<{ span: JaegerTrace['spans'][number]; depth: number }> = [];
  const walk = (s: JaegerTrace['spans'][number], depth: number) => {
    ordered.push({ span: s, depth });
    for (const c of children.get(s.spanID) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  const start = Math.min(...trace.spans.map((s) => s.startTime));
  const end = Math.max(...trace.spans.map((s) => s.startTime + s.duration));
  const total = Math.max(1, end - start);
  const ms = (us: number) => (us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us} µs`);
  const services = new Set(trace.spans.map((s) => trace.processes[s.processID]?.serviceName ?? '?'));
  const rows = ordered
    .map(({ span, depth }) => {
      const kind = String(span.tags.find((t) => t.key === 'span.kind')?.value ?? 'internal');
      const left = ((span.startTime - start) / total) * 100;
      const width = Math.max(0.3, (span.duration / total) * 100);
      const service = trace.processes[span.processID]?.serviceName ?? '?';
      const ids = span.tags
        .filter((t) => t.key.startsWith('codestep.') && t.key.endsWith('.id'))
        .map((t) => `${t.key.slice(9, -3)} ${String(t.value)}`)
        .join(' · ');
      return `<div class="span-row">
  <div class="name" style="padding-left:${8 + depth * 14}px"><span class="svc">${escape(service)}</span> ${escape(span.operationName)}<div class="ids">${escape(ids)}</div></div>
  <div class="lane"><div class="bar" style="left:${left}%;width:${width}%;background:${KIND_COLOURS[kind] ?? KIND_COLOURS.internal}"></div><span class="dur" style="${left + width > 70 ? `right:${100 - left}%;margin-right:6px` : `left:${left + width}%;margin-left:6px`}">${ms(span.duration)} · ${escape(kind)}</span></div>
</div>`;
    })
    .join('\n');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => `<span style="left:${f * 100}%">${ms(Math.round(f * total))}</span>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{font:13px/1.35 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff;overflow-x:hidden}
header{background:#1e1e1e;color:#fff;padding:10px 16px}
header h1{font-size:16px;margin:0 0 4px}header p{margin:0;color:#bbb;font-size:12px}
.axis,.span-row{display:grid;grid-template-columns:46% 54%}
.axis div:last-child{position:relative;height:20px;border-bottom:1px solid #ddd}
.axis span{position:absolute;font-size:11px;color:#666;white-space:nowrap;transform:translateX(-50%)}
.axis span:first-child{transform:none}.axis span:last-child{transform:translateX(-100%)}
.span-row{border-bottom:1px solid #eee}
.name{padding:4px 8px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;border-right:1px solid #ddd}
.svc{color:#666}.ids{color:#888;font-size:11px;overflow:hidden;text-overflow:ellipsis}
.lane{position:relative}.bar{position:absolute;top:9px;height:12px;border-radius:2px}
.dur{position:absolute;top:7px;font-size:11px;color:#555;white-space:nowrap}
</style></head><body>
<header><h1>Trace ${escape(trace.traceID)}</h1><p>${trace.spans.length} spans · ${services.size} service(s) · ${ms(total)} · from Jaeger: ${escape(options.source)}</p></header>
<div class="axis"><div></div><div>${ticks}</div></div>
${rows}
</body></html>`;
}
