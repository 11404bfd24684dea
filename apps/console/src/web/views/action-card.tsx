/**
 * One action in the workflow editor: id, name, runtime, code, inputs (a property of the enrolled
 * object, a literal, or an earlier action's output, picked from a list), typed outputs, the
 * tenant's secrets and connections to pick from, and limits within the tenant's ceilings.
 */
import { useState } from 'preact/hooks';
import { CodeEditor, type CodeError } from '../code-editor.tsx';
import { earlierOutputs, emptyInput, OUTPUT_TYPES, RUNTIMES, type ActionForm, type InputForm, type OutputForm, type WorkflowForm } from '../lib/workflow-form.ts';
import { FieldError, SelectField, TextField } from '../fields.tsx';
import { TestPanel, type TestTarget } from './test-panel.tsx';

export interface Choices {
  secrets: string[];
  connections: string[];
  limits?: { maxTimeoutMs?: number; maxMemoryMb?: number; defaultTimeoutMs?: number; defaultMemoryMb?: number } | undefined;
}

const RUNTIME_LABELS = RUNTIMES.map((r) => [r as string, r === 'hubspot' ? 'HubSpot custom code' : 'JsWorkflows'] as const);

/** The fields an action shows its own refusal on; a refusal of any other is shown at the top of the action. */
const OWN_FIELDS = ['id', 'name', 'runtime', 'code', 'inputFields', 'outputFields', 'secrets', 'connections', 'timeoutMs', 'memoryMb'];

export interface ActionProps {
  form: WorkflowForm;
  index: number;
  choices: Choices;
  /** The field of this action the API refused (`code`, `inputFields`, ...), with its message. */
  error?: { field: string; message: string; code?: CodeError | undefined } | undefined;
  /** The saved workflow this action can be tested in; none for a workflow not created yet or an action not saved. */
  test?: TestTarget | undefined;
  onChange(next: ActionForm): void;
  onMove(delta: -1 | 1): void;
  onRemove(): void;
}

export function ActionCard(props: ActionProps) {
  const a = props.form.actions[props.index]!;
  const p = `action-${props.index}`;
  const set = (patch: Partial<ActionForm>) => props.onChange({ ...a, ...patch });
  const err = (field: string) => (props.error?.field === field ? props.error.message : undefined);
  const last = props.form.actions.length - 1;
  // A failed test's line is marked in the editor, unless a refused save marks one.
  const [testLine, setTestLine] = useState<CodeError | undefined>();
  return (
    <section class={`card${props.error ? ' invalid' : ''}`} aria-labelledby={`${p}-title`}>
      <div class="row" style="justify-content: space-between">
        <h3 id={`${p}-title`}>
          Action {props.index + 1}: {a.name || a.id}
        </h3>
        <div class="row">
          <button type="button" class="secondary" onClick={() => props.onMove(-1)} disabled={props.index === 0} aria-label={`Move action ${props.index + 1} up`}>
            ↑
          </button>
          <button type="button" class="secondary" onClick={() => props.onMove(1)} disabled={props.index === last} aria-label={`Move action ${props.index + 1} down`}>
            ↓
          </button>
          <button type="button" class="danger" onClick={props.onRemove} disabled={last === 0}>
            Remove
          </button>
        </div>
      </div>
      <FieldError message={props.error && !OWN_FIELDS.includes(props.error.field) ? props.error.message : undefined} />
      <div class="row">
        <TextField id={`${p}-id`} label="Id" value={a.id} onInput={(id) => set({ id })} error={err('id')} />
        <TextField id={`${p}-name`} label="Name (optional)" value={a.name} onInput={(name) => set({ name })} error={err('name')} />
        <SelectField id={`${p}-runtime`} label="Runtime" value={a.runtime} options={RUNTIME_LABELS} onChange={(runtime) => set({ runtime })} error={err('runtime')} />
      </div>
      <CodeEditor id={`${p}-code`} label={`Code of action ${props.index + 1}`} value={a.code} onChange={(code) => set({ code })} error={props.error?.code ?? testLine} invalid={!!err('code')} />
      <FieldError message={props.error?.code ? undefined : err('code')} />
      {props.test ? <TestPanel target={props.test} action={a} objectType={props.form.objectType} prefix={p} onFailureLine={setTestLine} /> : null}
      <Inputs form={props.form} index={props.index} action={a} set={set} error={err('inputFields')} />
      <Outputs action={a} set={set} prefix={p} error={err('outputFields')} />
      <Picks legend="Secrets" names={props.choices.secrets} chosen={a.secrets} onChange={(secrets) => set({ secrets })} error={err('secrets')} empty="No secrets yet (add them under Secrets)." />
      <Picks legend="Connections" names={props.choices.connections} chosen={a.connections} onChange={(connections) => set({ connections })} error={err('connections')} empty="No connections yet." />
      <Limits action={a} set={set} prefix={p} limits={props.choices.limits} err={err} />
    </section>
  );
}

function Inputs(props: { form: WorkflowForm; index: number; action: ActionForm; set(patch: Partial<ActionForm>): void; error?: string | undefined }) {
  const a = props.action;
  const outputs = earlierOutputs(props.form, props.index);
  const update = (j: number, patch: Partial<InputForm>) => props.set({ inputFields: a.inputFields.map((f, k) => (k === j ? { ...f, ...patch } : f)) });
  const p = `action-${props.index}-in`;
  return (
    <fieldset>
      <legend>Input fields</legend>
      <FieldError message={props.error} />
      {a.inputFields.map((f, j) => (
        <div class="row" key={j}>
          <TextField id={`${p}-${j}-name`} label="Name" value={f.name} onInput={(name) => update(j, { name })} />
          <div>
            <label for={`${p}-${j}-source`}>From</label>
            <select id={`${p}-${j}-source`} value={f.source} onChange={(e) => update(j, { source: e.currentTarget.value as InputForm['source'] })}>
              <option value="property">a property of the object</option>
              <option value="value">a fixed value</option>
              <option value="fromAction">an earlier action's output</option>
            </select>
          </div>
          {f.source === 'property' ? <TextField id={`${p}-${j}-property`} label="Property" value={f.property} onInput={(property) => update(j, { property })} /> : null}
          {f.source === 'value' ? <TextField id={`${p}-${j}-value`} label="Value" value={f.value} onInput={(value) => update(j, { value })} /> : null}
          {f.source === 'fromAction' ? (
            <div>
              <label for={`${p}-${j}-output`}>Output</label>
              <select
                id={`${p}-${j}-output`}
                value={f.fromAction ? `${f.fromAction}\u0000${f.fromField}` : ''}
                onChange={(e) => {
                  const [fromAction = '', fromField = ''] = e.currentTarget.value.split('\u0000');
                  update(j, { fromAction, fromField });
                }}
              >
                <option value="">{outputs.length ? 'pick an output…' : 'no earlier action declares outputs'}</option>
                {outputs.map((o) => (
                  <option key={`${o.actionId}.${o.field}`} value={`${o.actionId}\u0000${o.field}`}>
                    {o.actionId} → {o.field}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          <button type="button" class="danger" onClick={() => props.set({ inputFields: a.inputFields.filter((_, k) => k !== j) })} aria-label={`Remove input ${f.name || j + 1}`}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="secondary" onClick={() => props.set({ inputFields: [...a.inputFields, emptyInput()] })}>
        Add input field
      </button>
    </fieldset>
  );
}

function Outputs(props: { action: ActionForm; set(patch: Partial<ActionForm>): void; prefix: string; error?: string | undefined }) {
  const a = props.action;
  const update = (j: number, patch: Partial<OutputForm>) => props.set({ outputFields: a.outputFields.map((f, k) => (k === j ? { ...f, ...patch } : f)) });
  const p = `${props.prefix}-out`;
  return (
    <fieldset>
      <legend>Output fields</legend>
      <FieldError message={props.error} />
      {a.outputFields.map((f, j) => (
        <div class="row" key={j}>
          <TextField id={`${p}-${j}-name`} label="Name" value={f.name} onInput={(name) => update(j, { name })} />
          <div>
            <label for={`${p}-${j}-type`}>Type</label>
            <select id={`${p}-${j}-type`} value={f.type} onChange={(e) => update(j, { type: e.currentTarget.value })}>
              {OUTPUT_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
          {f.type === 'enum' ? <TextField id={`${p}-${j}-options`} label="Options (comma-separated)" value={f.options} onInput={(options) => update(j, { options })} /> : null}
          <button type="button" class="danger" onClick={() => props.set({ outputFields: a.outputFields.filter((_, k) => k !== j) })} aria-label={`Remove output ${f.name || j + 1}`}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="secondary" onClick={() => props.set({ outputFields: [...a.outputFields, { name: '', type: 'string', options: '' }] })}>
        Add output field
      </button>
    </fieldset>
  );
}

function Picks(props: { legend: string; names: string[]; chosen: string[]; onChange(next: string[]): void; error?: string | undefined; empty: string }) {
  const all = [...new Set([...props.names, ...props.chosen])];
  return (
    <fieldset>
      <legend>{props.legend}</legend>
      <FieldError message={props.error} />
      {all.length === 0 ? <p class="muted">{props.empty}</p> : null}
      <div class="chips">
        {all.map((n) => (
          <label key={n}>
            <input type="checkbox" checked={props.chosen.includes(n)} onChange={(e) => props.onChange(e.currentTarget.checked ? [...props.chosen, n] : props.chosen.filter((c) => c !== n))} />
            {n}
            {props.names.includes(n) ? '' : ' (not in this account)'}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

function Limits(props: { action: ActionForm; set(patch: Partial<ActionForm>): void; prefix: string; limits: Choices['limits']; err(field: string): string | undefined }) {
  const l = props.limits;
  return (
    <div class="row">
      <TextField
        id={`${props.prefix}-timeout`}
        label="Time limit, ms (optional)"
        value={props.action.timeoutMs}
        onInput={(timeoutMs) => props.set({ timeoutMs })}
        error={props.err('timeoutMs')}
        hint={l?.maxTimeoutMs ? `default ${l.defaultTimeoutMs ?? '—'}, at most ${l.maxTimeoutMs}` : ''}
      />
      <TextField
        id={`${props.prefix}-memory`}
        label="Memory, MB (optional)"
        value={props.action.memoryMb}
        onInput={(memoryMb) => props.set({ memoryMb })}
        error={props.err('memoryMb')}
        hint={l?.maxMemoryMb ? `default ${l.defaultMemoryMb ?? '—'}, at most ${l.maxMemoryMb}` : ''}
      />
    </div>
  );
}
