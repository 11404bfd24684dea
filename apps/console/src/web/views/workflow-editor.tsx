/**
 * Creating and editing a workflow: its name and object type, its actions in order, saved with
 * POST /v1/workflows or PUT /v1/workflows/{id} (a new version). What is typed is kept as a draft
 * in localStorage until saved; a refusal from the API is shown on the field (and the code line) it
 * names. A saved workflow can be run from here: enroll an object, or copy its webhook URL.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { useLoad, useSession } from '../hooks.ts';
import { errorLocation, fieldOfMessage } from '../lib/api-errors.ts';
import { clearDraft, loadDraft, saveDraft } from '../lib/drafts.ts';
import { emptyAction, emptyWorkflow, fromApi, toApiBody, type ActionForm, type WorkflowForm } from '../lib/workflow-form.ts';
import { hrefOf } from '../lib/routes.ts';
import { ErrorNote, Link, Loading, Status } from '../widgets.tsx';
import { FieldError, Notice, TextField } from '../fields.tsx';
import { ActionCard, type Choices } from './action-card.tsx';
import { HubSpotTrigger } from './hubspot-trigger.tsx';
import { RunPanel } from './run-panel.tsx';
import { ScheduleTrigger } from './schedule-trigger.tsx';
import type { TestTarget } from './test-panel.tsx';

interface Saved {
  id: string;
  version: number;
  name: string;
  objectType?: string;
  status?: string;
}

function useChoices(): Choices {
  const { api } = useSession();
  const loaded = useLoad(async () => {
    const [secrets, connections, limits] = await Promise.all([
      api.get<{ secrets: { name: string }[] }>('/v1/secrets').catch(() => ({ secrets: [] })),
      api.get<{ connections: { handle: string }[] }>('/v1/connections').catch(() => ({ connections: [] })),
      api.get<{ effective?: Choices['limits'] }>('/v1/tenant/limits').catch(() => ({ effective: undefined })),
    ]);
    return { secrets: secrets.secrets.map((s) => s.name), connections: connections.connections.map((c) => c.handle), limits: limits.effective };
  }, []);
  return loaded.data ?? { secrets: [], connections: [] };
}

export function WorkflowEditor(props: { id: string }) {
  const { api } = useSession();
  const isNew = props.id === 'new';
  const saved = useLoad(() => (isNew ? Promise.resolve(undefined) : api.get<Saved & Record<string, unknown>>(`/v1/workflows/${encodeURIComponent(props.id)}`)), [props.id]);
  const [form, setForm] = useState<WorkflowForm | undefined>(() => loadDraft(localStorage, props.id) ?? (isNew ? emptyWorkflow() : undefined));
  const [fromDraft] = useState(() => loadDraft(localStorage, props.id) !== undefined);
  useEffect(() => {
    if (!form && saved.data) setForm(fromApi(saved.data));
  }, [saved.data]);
  if (!form) {
    return (
      <>
        <h1>Workflow</h1>
        <ErrorNote error={saved.error} what="Could not load the workflow" />
        <Loading loading={saved.loading} />
      </>
    );
  }
  return <EditorForm id={props.id} form={form} setForm={setForm} saved={saved.data} fromDraft={fromDraft} reloadSaved={saved.reload} />;
}

/** Saving: POST (new) or PUT (a new version); the draft is dropped once the API has it. */
function useSave(id: string, form: WorkflowForm, onSaved: () => void, reloadSaved: () => void) {
  const { api, navigate } = useSession();
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = toApiBody(form);
      const out = id === 'new' ? await api.send<Saved>('POST', '/v1/workflows', body) : await api.send<Saved>('PUT', `/v1/workflows/${encodeURIComponent(id)}`, body);
      clearDraft(localStorage, id);
      onSaved();
      setNotice(`Saved: version ${out.version}.`);
      if (id === 'new') navigate(`/workflows/${encodeURIComponent(out.id)}`);
      else reloadSaved();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return { save, busy, error, notice, setNotice };
}

/** Where the API's refusal points: a field of the workflow, of one action, or a line of its code. */
function refusalOf(error: Error | undefined) {
  const where = error instanceof ApiError && error.status === 400 ? fieldOfMessage(error.message) : undefined;
  const at = where && where.field === 'code' && error ? errorLocation(error.message) : undefined;
  return {
    where,
    workflowField: (f: string) => (where && where.action === undefined && where.field === f ? error?.message : undefined),
    actionError: (i: number) => (where?.action === i && error ? { field: where.field, message: error.message, code: at ? { ...at, message: error.message } : undefined } : undefined),
  };
}

function EditorForm(props: { id: string; form: WorkflowForm; setForm(f: WorkflowForm): void; saved: Saved | undefined; fromDraft: boolean; reloadSaved(): void }) {
  const choices = useChoices();
  const [draftShown, setDraftShown] = useState(props.fromDraft);
  const form = props.form;
  const { save, busy, error, notice, setNotice } = useSave(props.id, form, () => setDraftShown(false), props.reloadSaved);
  const update = (next: WorkflowForm) => {
    props.setForm(next);
    saveDraft(localStorage, props.id, next);
    setNotice('');
  };
  const refusal = refusalOf(error);
  const discard = () => {
    clearDraft(localStorage, props.id);
    setDraftShown(false);
    props.setForm(props.saved ? fromApi(props.saved) : emptyWorkflow());
  };
  return (
    <>
      <form onSubmit={save} aria-labelledby="wf-title" noValidate>
        <div class="row" style="justify-content: space-between">
          <h1 id="wf-title">{props.id === 'new' ? 'New workflow' : `Workflow ${props.saved?.name ?? ''}`}</h1>
          {props.saved ? (
            <span class="muted">
              saved version {props.saved.version} · <Status value={props.saved.status ?? 'enabled'} /> · <Link href={hrefOf({ name: 'versions', id: props.id, from: 0, to: 0 })}>Versions</Link>
            </span>
          ) : null}
        </div>
        {draftShown ? <DraftNotice onDiscard={discard} /> : null}
        <div class="row">
          <TextField id="wf-name" label="Name" value={form.name} onInput={(name) => update({ ...form, name })} error={refusal.workflowField('name')} />
          <TextField
            id="wf-object-type"
            label="Object type"
            value={form.objectType}
            onInput={(objectType) => update({ ...form, objectType })}
            error={refusal.workflowField('objectType')}
            hint="CONTACT, COMPANY, DEAL, TICKET…"
          />
        </div>
        <ScheduleTrigger
          value={form.schedule}
          onChange={(schedule) => update({ ...form, schedule })}
          errorOf={refusal.workflowField}
          workflowId={props.saved ? props.id : undefined}
          savedVersion={props.saved?.version}
        />
        <h2>Actions, in order</h2>
        <FieldError message={refusal.workflowField('actions')} />
        <Actions form={form} choices={choices} update={update} errorOf={refusal.actionError} testOf={(a) => testTarget(props.id, props.saved, a)} />
        {error ? (
          <div class="alert" role="alert">
            <strong>Not saved:</strong> {error.message}
            {error instanceof ApiError && !refusal.where ? <span class="muted"> ({error.code})</span> : null}
          </div>
        ) : null}
        <Notice message={notice} />
        <p class="row">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : props.id === 'new' ? 'Create workflow' : 'Save new version'}
          </button>
          {props.id !== 'new' ? <Link href={`/history?workflowId=${encodeURIComponent(props.id)}`}>Runs of this workflow</Link> : null}
          {props.id !== 'new' ? <Link href={hrefOf({ name: 'tail', enrollmentId: '', workflowId: props.id })}>Watch its runs live</Link> : null}
        </p>
      </form>
      {props.saved ? <HubSpotTrigger workflowId={props.id} objectType={props.saved.objectType ?? form.objectType} /> : null}
      {props.saved ? <RunPanel workflowId={props.id} objectType={form.objectType} /> : null}
    </>
  );
}

/** Where an action of the form can be tested: the saved version, when it has an action of that id. */
function testTarget(id: string, saved: Saved | undefined, action: ActionForm): TestTarget | undefined {
  if (id === 'new' || !saved) return undefined;
  const savedAction = fromApi(saved).actions.find((x) => x.id === action.id);
  if (!savedAction) return undefined;
  return { workflowId: id, savedVersion: saved.version, unsaved: JSON.stringify(savedAction) !== JSON.stringify(action) };
}

function Actions(props: {
  form: WorkflowForm;
  choices: Choices;
  update(f: WorkflowForm): void;
  errorOf: ReturnType<typeof refusalOf>['actionError'];
  testOf(action: ActionForm): TestTarget | undefined;
}) {
  const { form, update } = props;
  return (
    <>
      {form.actions.map((_, i) => (
        <ActionCard
          key={i}
          form={form}
          index={i}
          choices={props.choices}
          error={props.errorOf(i)}
          test={props.testOf(form.actions[i]!)}
          onChange={(a) => update({ ...form, actions: form.actions.map((x, k) => (k === i ? a : x)) })}
          onMove={(d) => {
            const actions = [...form.actions];
            const [moved] = actions.splice(i, 1);
            actions.splice(i + d, 0, moved!);
            update({ ...form, actions });
          }}
          onRemove={() => update({ ...form, actions: form.actions.filter((_, k) => k !== i) })}
        />
      ))}
      <button type="button" class="secondary" onClick={() => update({ ...form, actions: [...form.actions, emptyAction(form.actions.length)] })}>
        Add action
      </button>
    </>
  );
}

function DraftNotice(props: { onDiscard(): void }) {
  return (
    <p class="notice" role="status">
      Restored your unsaved draft.{' '}
      <button type="button" class="secondary" onClick={props.onDiscard}>
        Discard draft
      </button>
    </p>
  );
}
