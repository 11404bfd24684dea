/**
 * What changed between two versions of a workflow: its name and object type, the actions added,
 * removed, moved or changed (by action id), and for a changed action each field that differs, its
 * code as a unified line diff. Pure; the API shows it as `GET /v1/workflows/{id}/diff`.
 */
import { isDeepStrictEqual } from 'node:util';
import type { WorkflowDefinition } from '@codestep/contracts';
import { unifiedDiff } from './line-diff.ts';
import { triggerToInput } from './schedule-trigger.ts';
import { actionToInput } from './workflow-definition.ts';

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

export interface ActionChange {
  actionId: string;
  change: 'added' | 'removed' | 'changed';
  /** Position in each version (null where absent). */
  fromIndex: number | null;
  toIndex: number | null;
  /** Fields other than the code that differ (inputFields, outputFields, secrets, …). */
  fields: FieldChange[];
  /** Unified diff of the code, '' when the code is the same. */
  codeDiff: string;
}

export interface WorkflowDiff {
  workflowId: string;
  from: number;
  to: number;
  identical: boolean;
  changes: FieldChange[];
  actions: ActionChange[];
}

/** The differences from version `a` to version `b` of one workflow. */
export function diffWorkflows(a: WorkflowDefinition, b: WorkflowDefinition): WorkflowDiff {
  const changes: FieldChange[] = [];
  if (a.name !== b.name) changes.push({ field: 'name', from: a.name, to: b.name });
  if (a.objectType !== b.objectType) changes.push({ field: 'objectType', from: a.objectType, to: b.objectType });
  if (!isDeepStrictEqual(triggerOf(a), triggerOf(b))) changes.push({ field: 'trigger', from: triggerOf(a), to: triggerOf(b) });
  const order = (w: WorkflowDefinition) => w.actions.map((x) => x.actionId);
  const actions: ActionChange[] = [];
  const fromById = new Map(a.actions.map((x, i) => [x.actionId, { x, i }]));
  const toById = new Map(b.actions.map((x, i) => [x.actionId, { x, i }]));
  for (const [id, { x, i }] of fromById) {
    const other = toById.get(id);
    if (!other) {
      actions.push({ actionId: id, change: 'removed', fromIndex: i, toIndex: null, fields: [], codeDiff: unifiedDiff(x.code, '', { from: `v${a.version}/${id}`, to: '/dev/null' }) });
      continue;
    }
    const before = actionToInput(x);
    const after = actionToInput(other.x);
    const fields: FieldChange[] = [];
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (key === 'code') continue;
      if (!isDeepStrictEqual(before[key], after[key])) fields.push({ field: key, from: before[key] ?? null, to: after[key] ?? null });
    }
    const codeDiff = unifiedDiff(x.code, other.x.code, { from: `v${a.version}/${id}`, to: `v${b.version}/${id}` });
    if (fields.length || codeDiff || i !== other.i) actions.push({ actionId: id, change: 'changed', fromIndex: i, toIndex: other.i, fields, codeDiff });
  }
  for (const [id, { x, i }] of toById) {
    if (fromById.has(id)) continue;
    actions.push({ actionId: id, change: 'added', fromIndex: null, toIndex: i, fields: [], codeDiff: unifiedDiff('', x.code, { from: '/dev/null', to: `v${b.version}/${id}` }) });
  }
  if (!isDeepStrictEqual(order(a), order(b)) && !changes.some((c) => c.field === 'actionOrder')) changes.push({ field: 'actionOrder', from: order(a), to: order(b) });
  return { workflowId: b.workflowId, from: a.version, to: b.version, identical: changes.length === 0 && actions.length === 0, changes, actions };
}

/** A definition's trigger as users write it, null for none. */
const triggerOf = (w: Pick<WorkflowDefinition, 'trigger'>): Record<string, unknown> | null => (w.trigger ? triggerToInput(w.trigger) : null);

type Compared = Pick<WorkflowDefinition, 'name' | 'objectType' | 'actions' | 'trigger' | 'crmProperties'>;

/** True when two definitions would run the same: name, object type, trigger, CRM properties and actions equal (version, time and origin aside). */
export function sameDefinition(a: Compared, b: Compared): boolean {
  return (
    a.name === b.name &&
    a.objectType === b.objectType &&
    isDeepStrictEqual(triggerOf(a), triggerOf(b)) &&
    isDeepStrictEqual(a.crmProperties?.names ?? [], b.crmProperties?.names ?? []) &&
    isDeepStrictEqual(a.actions.map(actionToInput), b.actions.map(actionToInput))
  );
}
