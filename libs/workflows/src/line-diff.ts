/**
 * A line diff (Myers' O((N+M)·D) algorithm) and its unified rendering, for comparing two versions
 * of an action's code. Pure and dependency-free: no diff package is in the toolchain, and the
 * inputs are bounded (an action's code is at most 512 KiB).
 */

export type DiffOp = { op: 'equal' | 'delete' | 'insert'; line: string };

/** Past this many differing lines the diff gives up on minimality: the rest is one delete and one insert. */
export const MAX_EDIT_DISTANCE = 4000;

const splitLines = (text: string): string[] => (text === '' ? [] : text.replace(/\r\n/g, '\n').split('\n'));

/** The edit script turning `a` into `b`, line by line: shortest (up to {@link MAX_EDIT_DISTANCE} edits). */
export function diffLines(a: string, b: string): DiffOp[] {
  const x = splitLines(a);
  const y = splitLines(b);
  // Common prefix and suffix first: most versions differ in a few lines.
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start++;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) {
    endX--;
    endY--;
  }
  const head: DiffOp[] = x.slice(0, start).map((line) => ({ op: 'equal', line }));
  const tail: DiffOp[] = x.slice(endX).map((line) => ({ op: 'equal', line }));
  return [...head, ...myers(x.slice(start, endX), y.slice(start, endY)), ...tail];
}

function myers(x: string[], y: string[]): DiffOp[] {
  const n = x.length;
  const m = y.length;
  if (n === 0) return y.map((line) => ({ op: 'insert', line }));
  if (m === 0) return x.map((line) => ({ op: 'delete', line }));
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  const offset = max + 1;
  let v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      let i = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let j = i - k;
      while (i < n && j < m && x[i] === y[j]) {
        i++;
        j++;
      }
      next[offset + k] = i;
      if (i >= n && j >= m) return backtrack(trace, x, y, d, offset);
    }
    v = next;
  }
  // Too different to be worth a minimal script.
  return [...x.map((line): DiffOp => ({ op: 'delete', line })), ...y.map((line): DiffOp => ({ op: 'insert', line }))];
}

function backtrack(trace: Int32Array[], x: string[], y: string[], dEnd: number, offset: number): DiffOp[] {
  const ops: DiffOp[] = [];
  let i = x.length;
  let j = y.length;
  for (let d = dEnd; d > 0; d--) {
    const v = trace[d]!;
    const k = i - j;
    const down = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevI = v[offset + prevK]!;
    const prevJ = prevI - prevK;
    // The diagonal (equal lines) that followed the edit of step d.
    while (i > prevI + (down ? 0 : 1) && j > prevJ + (down ? 1 : 0)) {
      ops.push({ op: 'equal', line: x[--i]! });
      j--;
    }
    if (down) ops.push({ op: 'insert', line: y[--j]! });
    else ops.push({ op: 'delete', line: x[--i]! });
  }
  while (i > 0 && j > 0) {
    ops.push({ op: 'equal', line: x[--i]! });
    j--;
  }
  return ops.reverse();
}

/** The diff as a unified diff (`@@ -a,b +c,d @@` hunks with `context` lines around each change); '' when equal. */
export function unifiedDiff(a: string, b: string, labels: { from: string; to: string }, context = 3): string {
  const ops = diffLines(a, b);
  if (ops.every((o) => o.op === 'equal')) return '';
  const out = [`--- ${labels.from}`, `+++ ${labels.to}`];
  // Line numbers of each op in a and b (1-based, of the line it consumes or would follow).
  const pos: Array<{ ai: number; bi: number }> = [];
  let ai = 1;
  let bi = 1;
  for (const o of ops) {
    pos.push({ ai, bi });
    if (o.op !== 'insert') ai++;
    if (o.op !== 'delete') bi++;
  }
  let idx = 0;
  while (idx < ops.length) {
    if (ops[idx]!.op === 'equal') {
      idx++;
      continue;
    }
    let from = Math.max(0, idx - context);
    let to = idx;
    // Extend the hunk while the next change is within 2·context equal lines.
    for (;;) {
      while (to < ops.length && ops[to]!.op !== 'equal') to++;
      let eq = to;
      while (eq < ops.length && ops[eq]!.op === 'equal') eq++;
      if (eq < ops.length && eq - to <= 2 * context) to = eq;
      else {
        to = Math.min(ops.length, to + context);
        break;
      }
    }
    const slice = ops.slice(from, to);
    const aCount = slice.filter((o) => o.op !== 'insert').length;
    const bCount = slice.filter((o) => o.op !== 'delete').length;
    const aStart = aCount ? pos[from]!.ai : pos[from]!.ai - 1;
    const bStart = bCount ? pos[from]!.bi : pos[from]!.bi - 1;
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const o of slice) out.push(`${o.op === 'equal' ? ' ' : o.op === 'delete' ? '-' : '+'}${o.line}`);
    idx = to;
    from = to;
  }
  return `${out.join('\n')}\n`;
}
