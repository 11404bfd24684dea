/**
 * A saved workflow's HubSpot event trigger in the editor: enroll the object when HubSpot reports
 * an event of the workflow's object type (created, a property changed, …) in the portal that
 * installed codestep; once per object or on every event. Read with GET and saved with PUT
 * /v1/workflows/{id}/hubspot-trigger (DELETE when turned off), apart from the workflow's versions:
 * the API keeps it per workflow. A refusal is shown on the field it names.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.ts';
import { Notice, SelectField, TextField } from '../fields.tsx';
import { useLoad, useSession, when } from '../hooks.ts';
import {
  clearTriggerDraft,
  emptyHubSpotTrigger,
  hubspotTriggerBody,
  hubspotTriggerFieldOf,
  hubspotTriggerForm,
  loadTriggerDraft,
  REENROLL_OPTIONS,
  saveTriggerDraft,
  TRIGGER_EVENTS,
  TRIGGER_OBJECTS,
  type HubSpotTriggerForm,
} from '../lib/hubspot-trigger-form.ts';
import { ErrorNote, Loading } from '../widgets.tsx';

interface SavedTrigger {
  workflowId: string;
  subscription: string | null;
  propertyName?: string | null;
  reenroll?: string;
  updatedAt?: string;
}

const OBJECTS = TRIGGER_OBJECTS.map(([value, label]) => [value as string, label as string] as const);
const EVENTS = TRIGGER_EVENTS.map(([value, label]) => [value as string, label as string] as const);
const REENROLL = REENROLL_OPTIONS.map((o) => [o.value, o.label] as const);

/** How the saved trigger reads: "contact.propertyChange of email, on every event". */
function describeTrigger(t: SavedTrigger): string {
  const option = REENROLL_OPTIONS.find((o) => o.value === t.reenroll);
  const param = option?.param ? (t as unknown as Record<string, unknown>)[option.param.field] : undefined;
  return `${t.subscription}${t.propertyName ? ` of ${t.propertyName}` : ''}, ${option?.label ?? t.reenroll}${param !== undefined ? ` (${option?.param?.label}: ${String(param)})` : ''}`;
}

export function HubSpotTrigger(props: { workflowId: string; objectType: string }) {
  const { api } = useSession();
  const path = `/v1/workflows/${encodeURIComponent(props.workflowId)}/hubspot-trigger`;
  const saved = useLoad(() => api.get<SavedTrigger>(path), [props.workflowId]);
  const [form, setForm] = useState<HubSpotTriggerForm | undefined>(() => loadTriggerDraft(localStorage, props.workflowId));
  const [fromDraft, setFromDraft] = useState(() => form !== undefined);
  const [error, setError] = useState<Error | undefined>();
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (saved.data && !form) setForm(hubspotTriggerForm(saved.data, props.objectType));
  }, [saved.data]);
  const f = form ?? emptyHubSpotTrigger(props.objectType);
  const set = (patch: Partial<HubSpotTriggerForm>) => {
    setForm({ ...f, ...patch });
    saveTriggerDraft(localStorage, props.workflowId, { ...f, ...patch });
    setNotice('');
  };
  const discard = () => {
    clearTriggerDraft(localStorage, props.workflowId);
    setFromDraft(false);
    setForm(hubspotTriggerForm(saved.data, props.objectType));
  };
  const field = error instanceof ApiError && error.status === 400 ? hubspotTriggerFieldOf(error.message) : undefined;
  const errorOf = (name: string) => (field === name ? error?.message : undefined);
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const out = f.enabled ? await api.send<SavedTrigger>('PUT', path, hubspotTriggerBody(f)) : await api.send<SavedTrigger>('DELETE', path);
      clearTriggerDraft(localStorage, props.workflowId);
      setFromDraft(false);
      setNotice(out.subscription ? `HubSpot trigger saved: ${describeTrigger(out)}.` : 'HubSpot trigger removed.');
      saved.reload();
    } catch (err) {
      setError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class={`card${field ? ' invalid' : ''}`} onSubmit={save} aria-labelledby="hs-trigger-title" noValidate>
      <h2 id="hs-trigger-title">HubSpot event trigger</h2>
      <p class="muted">Enrolls the object when HubSpot reports this event in the portal that installed codestep (its CRM webhooks). Kept per workflow, apart from its versions.</p>
      <ErrorNote error={saved.error} what="HubSpot trigger" />
      <Loading loading={saved.loading && !saved.data} />
      {fromDraft ? (
        <p class="notice" role="status">
          Restored your unsaved HubSpot trigger.{' '}
          <button type="button" class="secondary" onClick={discard}>
            Discard it
          </button>
        </p>
      ) : null}
      <label class="inline">
        <input type="checkbox" checked={f.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} /> Enroll on a HubSpot event
      </label>
      {f.enabled ? <TriggerFields form={f} set={set} errorOf={errorOf} /> : null}
      {field ? null : <ErrorNote error={error} what="HubSpot trigger not saved" />}
      <Notice message={notice} />
      <p class="row">
        <button type="submit" disabled={busy || (!f.enabled && !saved.data?.subscription)}>
          {busy ? 'Saving…' : f.enabled ? 'Save HubSpot trigger' : 'Remove HubSpot trigger'}
        </button>
        <span class="muted">
          {saved.data?.subscription ? `Saved: ${describeTrigger(saved.data)}${saved.data.updatedAt ? `, since ${when(saved.data.updatedAt)}` : ''}.` : saved.data ? 'No HubSpot trigger saved.' : ''}
        </span>
      </p>
    </form>
  );
}

function TriggerFields(props: { form: HubSpotTriggerForm; set(patch: Partial<HubSpotTriggerForm>): void; errorOf(field: string): string | undefined }) {
  const { form: f, set, errorOf } = props;
  const option = REENROLL_OPTIONS.find((o) => o.value === f.reenroll);
  return (
    <div class="row">
      <SelectField id="hs-trigger-object" label="When a" value={f.object} options={OBJECTS} onChange={(object) => set({ object })} error={errorOf('subscription')} />
      <SelectField id="hs-trigger-event" label="Event" value={f.event} options={EVENTS} onChange={(event) => set({ event })} />
      {f.event === 'propertyChange' ? (
        <TextField
          id="hs-trigger-property"
          label="Property (optional)"
          value={f.propertyName}
          onInput={(propertyName) => set({ propertyName })}
          error={errorOf('propertyName')}
          hint="Its internal name, like lifecyclestage; blank: any property"
        />
      ) : null}
      <SelectField id="hs-trigger-reenroll" label="Enroll" value={f.reenroll} options={REENROLL} onChange={(reenroll) => set({ reenroll })} error={errorOf('reenroll')} />
      {option?.param ? (
        <TextField
          id={`hs-trigger-${option.param.field}`}
          label={option.param.label}
          value={f.params[option.param.field] ?? ''}
          onInput={(v) => set({ params: { ...f.params, [option.param!.field]: v } })}
          error={errorOf(option.param.field)}
          hint={option.param.hint}
        />
      ) : null}
    </div>
  );
}
