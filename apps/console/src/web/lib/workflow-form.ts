/**
 * The workflow editor's form, and its mapping to and from the API's JSON (WorkflowInput in
 * GET /openapi.json). The form keeps what the user typed as typed (numbers as text), so a draft
 * survives a reload and a refused save loses nothing.
 */
export const RUNTIMES = ['hubspot', 'jsworkflows'] as const;
export const OUTPUT_TYPES = ['string', 'number', 'boolean', 'datetime', 'date', 'enum', 'phone_number'] as const;

export interface InputForm {
  name: string;
  source: 'property' | 'value' | 'fromAction';
  property: string;
  value: string;
  fromAction: string;
  fromField: string;
}

export interface OutputForm {
  name: string;
  type: string;
  options: string;
}

export interface ActionForm {
  id: string;
  name: string;
  runtime: string;
  code: string;
  inputFields: InputForm[];
  outputFields: OutputForm[];
  secrets: string[];
  connections: string[];
  timeoutMs: string;
  memoryMb: string;
}

export interface WorkflowForm {
  name: string;
  objectType: string;
  actions: ActionForm[];
  /** Its schedule trigger; absent (or kind "none"): enrolled by hand, by the API, a webhook or a HubSpot event only. */
  schedule?: ScheduleForm;
}

/** A schedule trigger as typed: a cron expression in a time zone, or a fixed interval; what is missed while down run once or skipped. */
export interface ScheduleForm {
  kind: 'none' | 'cron' | 'every';
  cron: string;
  timezone: string;
  every: string;
  missed: string;
}

export const MISSED_POLICIES = ['runOnce', 'skip'] as const;

export function emptySchedule(timezone = 'UTC'): ScheduleForm {
  return { kind: 'none', cron: '0 9 * * MON-FRI', timezone, every: '1 h', missed: 'runOnce' };
}

/** The API's `trigger` of a schedule form; undefined for none (a save then removes the trigger). */
export function triggerBody(s: ScheduleForm | undefined): Record<string, unknown> | undefined {
  if (!s || s.kind === 'none') return undefined;
  if (s.kind === 'every') return { type: 'schedule', every: s.every.trim(), missed: s.missed };
  return { type: 'schedule', cron: s.cron.trim(), ...(s.timezone.trim() ? { timezone: s.timezone.trim() } : {}), missed: s.missed };
}

/** A trigger as the API shows it, as the form edits it (undefined: none). */
export function scheduleForm(raw: unknown): ScheduleForm | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const t = raw as Record<string, unknown>;
  if (t.type !== 'schedule') return undefined;
  const base = emptySchedule(typeof t.timezone === 'string' && t.timezone ? t.timezone : 'UTC');
  const missed = typeof t.missed === 'string' && t.missed ? t.missed : 'runOnce';
  if (typeof t.every === 'string' && t.every) return { ...base, kind: 'every', every: t.every, missed };
  return { ...base, kind: 'cron', cron: typeof t.cron === 'string' ? t.cron : '', missed };
}

export const SAMPLE_CODE = `exports.main = async (event, callback) => {
  const email = event.inputFields['email'];
  console.log('enrolled', event.object.objectId);
  callback({ outputFields: { greeting: 'hello ' + email } });
};
`;

export function emptyAction(index: number): ActionForm {
  return { id: `action-${index + 1}`, name: '', runtime: 'hubspot', code: SAMPLE_CODE, inputFields: [], outputFields: [], secrets: [], connections: [], timeoutMs: '', memoryMb: '' };
}

export function emptyWorkflow(): WorkflowForm {
  return { name: '', objectType: 'CONTACT', actions: [emptyAction(0)] };
}

export function emptyInput(): InputForm {
  return { name: '', source: 'property', property: '', value: '', fromAction: '', fromField: '' };
}

function inputBody(f: InputForm): Record<string, unknown> {
  if (f.source === 'value') return { name: f.name, value: f.value };
  if (f.source === 'fromAction') return { name: f.name, fromAction: { actionId: f.fromAction, field: f.fromField } };
  return { name: f.name, property: f.property };
}

/** A number typed in a limit field; text that is not one goes to the API as typed, which says what is wrong. */
function limitValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  return /^\d+$/.test(t) ? Number(t) : t;
}

export function toApiBody(form: WorkflowForm): Record<string, unknown> {
  const trigger = triggerBody(form.schedule);
  return {
    name: form.name,
    objectType: form.objectType,
    ...(trigger ? { trigger } : {}),
    actions: form.actions.map((a) => {
      const out: Record<string, unknown> = {
        id: a.id,
        ...(a.name ? { name: a.name } : {}),
        runtime: a.runtime,
        code: a.code,
        inputFields: a.inputFields.map(inputBody),
        outputFields: a.outputFields.map((o) =>
          o.type === 'enum'
            ? {
                name: o.name,
                type: o.type,
                options: o.options
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean),
              }
            : { name: o.name, type: o.type },
        ),
        secrets: a.secrets,
        connections: a.connections,
      };
      const timeout = limitValue(a.timeoutMs);
      const memory = limitValue(a.memoryMb);
      if (timeout !== undefined) out.timeoutMs = timeout;
      if (memory !== undefined) out.memoryMb = memory;
      return out;
    }),
  };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

function inputForm(raw: unknown): InputForm {
  const f = obj(raw);
  const base = { ...emptyInput(), name: str(f.name) };
  if (f.value !== undefined) return { ...base, source: 'value', value: str(f.value) };
  if (f.fromAction !== undefined) return { ...base, source: 'fromAction', fromAction: str(obj(f.fromAction).actionId), fromField: str(obj(f.fromAction).field) };
  return { ...base, source: 'property', property: str(f.property) };
}

/** A workflow as GET /v1/workflows/{id} shows it, as the form edits it. */
export function fromApi(workflow: unknown): WorkflowForm {
  const w = obj(workflow);
  return {
    name: str(w.name),
    objectType: str(w.objectType) || 'CONTACT',
    ...(scheduleForm(w.trigger) ? { schedule: scheduleForm(w.trigger) } : {}),
    actions: list(w.actions).map((raw, i) => {
      const a = obj(raw);
      return {
        id: str(a.id) || `action-${i + 1}`,
        name: str(a.name) === str(a.id) ? '' : str(a.name),
        runtime: str(a.runtime) || 'hubspot',
        code: str(a.code),
        inputFields: list(a.inputFields).map(inputForm),
        outputFields: list(a.outputFields).map((o) => ({ name: str(obj(o).name), type: str(obj(o).type) || 'string', options: list(obj(o).options).map(str).join(', ') })),
        secrets: list(a.secrets).map(str),
        connections: list(a.connections).map(str),
        timeoutMs: a.timeoutMs === undefined ? '' : str(a.timeoutMs),
        memoryMb: a.memoryMb === undefined ? '' : str(a.memoryMb),
      };
    }),
  };
}

/** The outputs of the actions before `index`, for an input's picker: `{actionId, field}` pairs. */
export function earlierOutputs(form: WorkflowForm, index: number): { actionId: string; field: string }[] {
  return form.actions.slice(0, index).flatMap((a) => a.outputFields.filter((o) => o.name).map((o) => ({ actionId: a.id, field: o.name })));
}
