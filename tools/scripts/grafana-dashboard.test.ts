/**
 * infra/grafana/codestep.dashboard.json is not run here (no Grafana): this test keeps it from
 * drifting away from docs/metrics.md. Every series a panel queries is a metric the page documents,
 * every documented metric is on some panel, and every panel reads the dashboard's data source.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { root } from './events-contract.ts';

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: Array<{ expr: string }>;
}

const dashboard = JSON.parse(readFileSync(join(root, 'infra/grafana/codestep.dashboard.json'), 'utf8')) as { panels: Panel[]; templating: { list: Array<{ name: string }> } };
const doc = readFileSync(join(root, 'docs/metrics.md'), 'utf8');
/** The Prometheus names in the page's table: `codestep_x_total`, `codestep_x_*` (a histogram's series). */
const documented = [...doc.matchAll(/\(`(codestep_[a-z_]+?)(_\*)?`\)/g)].map((m) => ({ name: m[1]!, histogram: !!m[2] }));

function seriesOf(expr: string): string[] {
  return [...expr.matchAll(/\b(codestep_[a-z_]+)\{/g)].map((m) => m[1]!); // a series is followed by its selector; labels are not
}

describe('the Grafana dashboard', () => {
  it('queries only metrics docs/metrics.md documents', () => {
    assert.ok(documented.length >= 10, `found ${documented.length} metrics in docs/metrics.md`);
    for (const panel of dashboard.panels)
      for (const target of panel.targets)
        for (const series of seriesOf(target.expr)) {
          const known = documented.some((d) => (d.histogram ? ['_bucket', '_sum', '_count'].some((s) => series === d.name + s) : series === d.name));
          assert.ok(known, `"${panel.title}" queries ${series}, which docs/metrics.md does not list`);
        }
  });

  it('shows every documented metric on some panel', () => {
    const queried = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => seriesOf(t.expr)));
    for (const d of documented)
      assert.ok(
        queried.some((s) => s === d.name || s.startsWith(`${d.name}_`)),
        `${d.name} is on no panel`,
      );
  });

  it('reads every panel from the data source variable', () => {
    assert.ok(dashboard.templating.list.some((v) => v.name === 'datasource'));
    for (const panel of dashboard.panels) assert.equal(panel.datasource.uid, '${datasource}', panel.title);
  });
});
