/**
 * A unified diff (the `codeDiff` of GET /v1/workflows/{id}/diff) laid out side by side: each
 * hunk's removed lines on the left facing its added lines on the right, unchanged lines on both
 * sides, with each side's own line numbers. Pure, so it is tested without a browser.
 */

export interface SideLine {
  /** 1-based line number in its version. */
  n: number;
  text: string;
  kind: 'same' | 'removed' | 'added';
}

export type SideRow = { type: 'hunk'; header: string } | { type: 'line'; left: SideLine | null; right: SideLine | null };

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

export function sideBySide(unified: string): SideRow[] {
  const rows: SideRow[] = [];
  let left = 0;
  let right = 0;
  let removed: SideLine[] = [];
  let added: SideLine[] = [];
  // A run of removals followed by a run of additions is a change: pair them row by row.
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) rows.push({ type: 'line', left: removed[i] ?? null, right: added[i] ?? null });
    removed = [];
    added = [];
  };
  for (const line of unified.split('\n')) {
    if (line.startsWith('--- ') || line.startsWith('+++ ')) continue;
    const hunk = HUNK.exec(line);
    if (hunk) {
      flush();
      // A side with no lines in the hunk names the line before it (`-0,0`): the next line is one after.
      left = Number(hunk[1]) + (hunk[2] === '0' ? 1 : 0);
      right = Number(hunk[3]) + (hunk[4] === '0' ? 1 : 0);
      rows.push({ type: 'hunk', header: line });
      continue;
    }
    const mark = line[0];
    const text = line.slice(1);
    if (mark === '-') {
      if (added.length) flush();
      removed.push({ n: left++, text, kind: 'removed' });
    } else if (mark === '+') {
      added.push({ n: right++, text, kind: 'added' });
    } else if (mark === ' ') {
      flush();
      rows.push({ type: 'line', left: { n: left++, text, kind: 'same' }, right: { n: right++, text, kind: 'same' } });
    }
  }
  flush();
  return rows;
}
