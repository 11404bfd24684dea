/**
 * A JsWorkflows run as a tree in the enrollment view: each step under the step that scheduled it
 * (branches and waits nested as they ran), collapsible, with its status, attempts, the time its
 * attempts ran and the span of its whole branch; a step's details (inputs, outputs, console,
 * errors) open under it. Expanded branches are kept by node key, so a refresh of a running
 * enrollment keeps what the user opened.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { branchKeys, formatDuration, runTree, type RunNode } from '../lib/run-tree.ts';
import { Status } from '../widgets.tsx';
import type { Execution } from './history.tsx';

export function RunTree(props: { executions: Execution[]; details(x: Execution): ComponentChildren; waitNote(x: Execution): ComponentChildren }) {
  const roots = runTree(props.executions);
  // Collapsed branches and opened details, by node key: a new node (a refresh brought it) shows expanded, its details closed.
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set());
  const [opened, setOpened] = useState<ReadonlySet<string>>(new Set());
  const flip = (set: ReadonlySet<string>, key: string) => {
    const next = new Set(set);
    if (!next.delete(key)) next.add(key);
    return next;
  };
  const ctx: TreeContext = {
    collapsed,
    opened,
    toggle: (key) => setCollapsed((c) => flip(c, key)),
    toggleDetails: (key) => setOpened((o) => flip(o, key)),
    details: props.details,
    waitNote: props.waitNote,
  };
  return (
    <>
      <p class="row">
        <button type="button" class="secondary" onClick={() => setCollapsed(new Set())}>
          Expand all
        </button>
        <button type="button" class="secondary" onClick={() => setCollapsed(new Set(branchKeys(roots)))}>
          Collapse all
        </button>
      </p>
      <ul class="run-tree" aria-label="Steps as a tree">
        {roots.map((n) => (
          <TreeNode key={n.key} node={n} ctx={ctx} />
        ))}
      </ul>
    </>
  );
}

interface TreeContext {
  collapsed: ReadonlySet<string>;
  opened: ReadonlySet<string>;
  toggle(key: string): void;
  toggleDetails(key: string): void;
  details(x: Execution): ComponentChildren;
  waitNote(x: Execution): ComponentChildren;
}

const domId = (key: string) => `node-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;

function TreeNode(props: { node: RunNode<Execution>; ctx: TreeContext }) {
  const { node: n, ctx } = props;
  const id = domId(n.key);
  const expanded = !ctx.collapsed.has(n.key);
  const open = ctx.opened.has(n.key);
  const last = n.attempts[n.attempts.length - 1]!;
  const label = n.name !== n.actionId && (!n.branch || n.branch === 'root') ? `${n.actionId} → ${n.name}` : n.name;
  return (
    <li class={`run-node ${n.status}`} data-step={n.name}>
      <div class="run-row">
        {n.children.length ? (
          <button
            type="button"
            class="toggle"
            aria-expanded={expanded}
            aria-controls={`${id}-children`}
            aria-label={`${expanded ? 'Collapse' : 'Expand'} ${n.name} (${n.size - 1} below)`}
            onClick={() => ctx.toggle(n.key)}
          >
            {expanded ? '▾' : '▸'}
          </button>
        ) : (
          <span class="toggle" aria-hidden="true">
            •
          </span>
        )}
        <strong>
          <code>{label}</code>
        </strong>
        <Status value={n.status} />
        <span class="muted">
          {n.attempts.length === 1 ? `attempt ${last.attempt}` : `${n.attempts.length} attempts`} · ran {formatDuration(n.durationMs)}
          {n.children.length ? ` · branch ${n.spanMs === undefined ? 'still running' : formatDuration(n.spanMs)} over ${n.size} steps` : ''}
          {n.failed && (n.children.length || n.status !== 'failed') ? ` · ${n.failed} failed` : ''}
          {n.branch && n.branch !== 'root' ? ` · branch ${n.branch}` : ''}
        </span>
        <button type="button" class="secondary" aria-expanded={open} aria-controls={`${id}-details`} onClick={() => ctx.toggleDetails(n.key)}>
          {open ? 'Hide details' : 'Details'}
          <span class="sr-only"> of {n.name}</span>
        </button>
      </div>
      {last.wait ? ctx.waitNote(last) : null}
      {open ? (
        <ol id={`${id}-details`} class="timeline" aria-label={`Attempts of ${n.name}`}>
          {n.attempts.map((x) => ctx.details(x))}
        </ol>
      ) : null}
      {n.children.length && expanded ? (
        <ul id={`${id}-children`} aria-label={`Scheduled by ${n.name}`}>
          {n.children.map((c) => (
            <TreeNode key={c.key} node={c} ctx={ctx} />
          ))}
        </ul>
      ) : null}
    </li>
  );
}
