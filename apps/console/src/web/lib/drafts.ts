/**
 * Drafts of the workflow editor in localStorage, by workflow id ("new" for one not yet created):
 * a reload, a refused save or a server restart loses nothing typed. A draft is dropped once saved.
 */
import { scheduleForm, type WorkflowForm } from './workflow-form.ts';

export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const key = (workflowId: string) => `codestep.draft.${workflowId}`;

export function loadDraft(store: KeyValueStore, workflowId: string): WorkflowForm | undefined {
  const raw = store.getItem(key(workflowId));
  if (!raw) return undefined;
  try {
    const parsed = JSON.parse(raw) as { form?: WorkflowForm & { trigger?: unknown } };
    const form = parsed.form;
    if (!form || !Array.isArray(form.actions)) return undefined;
    // A draft kept before the editor showed schedules carries the trigger as the API gave it.
    const { trigger, ...rest } = form;
    return trigger !== undefined && !rest.schedule ? { ...rest, ...(scheduleForm(trigger) ? { schedule: scheduleForm(trigger) } : {}) } : rest;
  } catch {
    return undefined;
  }
}

export function saveDraft(store: KeyValueStore, workflowId: string, form: WorkflowForm): void {
  try {
    store.setItem(key(workflowId), JSON.stringify({ form, savedAt: new Date().toISOString() }));
  } catch {
    // A full or disabled storage: the draft lives only in the page.
  }
}

export function clearDraft(store: KeyValueStore, workflowId: string): void {
  store.removeItem(key(workflowId));
}
