/**
 * Validation of workflow definitions as users send them, and their mapping to the contract's
 * `ActionDefinition`. Errors name the field and say what to do.
 */
import type { ActionDefinition, InputFieldSource, OutputFieldDefinition, WorkflowTrigger } from '@codestep/contracts';
import {
  DEFAULT_RUNTIME_VERSION,
  LEGACY_RUNTIME_VERSION,
  OUTPUT_FIELDS_POLICY,
  SECRETS_POLICY,
  ValidationError,
  isValidSecretName,
  resolveRuntimeVersion,
  runtimeVersionProblem,
  unsafeTextProblem,
  type RuntimeVersion,
} from '@codestep/core';
import { codeSyntaxProblem } from './code-syntax.check.ts';
import { parseObjectType } from './crm-object-types.ts';
import { DEFAULT_LIMIT_BOUNDS, LIMIT_MINIMUMS, type LimitBounds } from './execution-limits.ts';
import { DEFAULT_SCHEDULE_BOUNDS, parseTrigger, type ScheduleBounds } from './schedule-trigger.ts';

export const OUTPUT_TYPES = ['number', 'string', 'boolean', 'datetime', 'enum', 'date', 'phone_number'] as const;
export const RUNTIMES = ['hubspot', 'jsworkflows'] as const;
const NAME = new RegExp(`^[A-Za-z_][A-Za-z0-9_]{0,${OUTPUT_FIELDS_POLICY.maxNameChars - 1}}$`);
const ACTION_ID = /^[a-z0-9][a-z0-9-_]{0,62}$/;
export const MAX_CODE_BYTES = 512 * 1024;

export interface WorkflowInput {
  name: string;
  objectType: string;
  actions: ActionDefinition[];
  /** A schedule trigger (`./schedule-trigger.ts`), when the body has one. */
  trigger?: WorkflowTrigger;
  /** CRM properties read from HubSpot before the first action when the object lacks them. */
  crmProperties?: string[];
}

/** At most this many `crmProperties` (HubSpot reads a record's properties in one request). */
export const MAX_CRM_PROPERTIES = 100;
const PROPERTY_NAME = /^[a-z0-9_][a-z0-9_.-]{0,99}$/i;

type Json = Record<string, unknown>;

/**
 * The fields of a workflow body, of an action, and of its input and output fields. Anything else
 * (`outputFeilds`) is refused naming it. A workflow's read-only fields (as `GET` shows them) are
 * accepted and ignored, so what was read can be sent back.
 */
export const KNOWN_FIELDS = {
  workflow: ['name', 'objectType', 'actions', 'trigger', 'crmProperties', 'id', 'version', 'createdAt', 'status', 'statusChangedAt', 'rolledBackFrom', 'requestId', 'schedule'],
  // runtimeVersion: the runtime versions' field (h/runtimes), known here so a merge keeps accepting it.
  action: ['id', 'name', 'runtime', 'runtimeVersion', 'code', 'inputFields', 'outputFields', 'secrets', 'connections', 'timeoutMs', 'memoryMb'],
  inputField: ['name', 'value', 'property', 'fromAction'],
  outputField: ['name', 'type', 'options'],
} as const;

/** Levenshtein distance (names are short). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

function refuseUnknown(obj: Json, known: readonly string[], path: string): void {
  const unknown = Object.keys(obj).find((k) => !known.includes(k));
  if (unknown === undefined) return;
  const near = known.find((k) => editDistance(k.toLowerCase(), unknown.toLowerCase()) <= 2);
  fail(path ? `${path}.${unknown}` : unknown, `is not a field here${near ? ` (did you mean "${near}"?)` : ''}; the fields are ${known.join(', ')}`);
}
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, { field: path });
}

/** `shown`: a name the platform displays back, refused with control or bidirectional characters ({@link unsafeTextProblem}). */
function str(v: unknown, path: string, opts: { required?: boolean; max?: number; shown?: boolean } = {}): string {
  if (v === undefined || v === null) {
    if (opts.required) fail(path, 'is required');
    return '';
  }
  if (typeof v !== 'string') fail(path, `must be a string, got ${typeof v}`);
  if (opts.required && v.trim() === '') fail(path, 'must not be empty');
  if (opts.max !== undefined && v.length > opts.max) fail(path, `must be at most ${opts.max} characters`);
  const unsafe = opts.shown ? unsafeTextProblem(v) : undefined;
  if (unsafe) fail(path, unsafe);
  return v;
}

/** An action's own limit: unset (0), or a whole number within the bound, refused with whose bound it is. */
function limit(v: unknown, path: string, min: number, max: number, unit: string, bound = "the operator's bound"): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(path, `must be a whole number of ${unit} from ${min} to ${max}`);
  if (v > max) fail(path, `${v} ${unit} is above the limit of ${max} ${unit} (${bound}); ask for at most ${max}, or leave it out for the default`);
  return v;
}

export function parseWorkflowInput(body: unknown, bounds: LimitBounds = DEFAULT_LIMIT_BOUNDS, schedule: Pick<ScheduleBounds, 'minIntervalMs'> = DEFAULT_SCHEDULE_BOUNDS): WorkflowInput {
  if (!isObj(body)) fail('body', 'must be a JSON object like {"name": ..., "objectType": "CONTACT", "actions": [...]}');
  refuseUnknown(body, KNOWN_FIELDS.workflow, '');
  const name = str(body.name, 'name', { required: true, max: 200, shown: true });
  const objectType = parseObjectType(body.objectType ?? 'CONTACT', 'objectType');
  if (!Array.isArray(body.actions) || body.actions.length === 0) fail('actions', 'must be a non-empty array of actions');
  if (body.actions.length > 50) fail('actions', 'at most 50 actions per workflow');
  const actions: ActionDefinition[] = [];
  const seen = new Map<string, ActionDefinition>();
  body.actions.forEach((raw, i) => {
    const action = parseAction(raw, `actions[${i}]`, i, seen, bounds);
    seen.set(action.actionId, action);
    actions.push(action);
  });
  const trigger = parseTrigger(body.trigger, schedule);
  const crmProperties = parseCrmProperties(body.crmProperties);
  return { name, objectType, actions, ...(trigger ? { trigger } : {}), ...(crmProperties.length ? { crmProperties } : {}) };
}

/** `crmProperties`: HubSpot property names (`email`, `hs_lead_status`), each once. */
function parseCrmProperties(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail('crmProperties', 'must be an array of HubSpot property names, like ["email", "firstname"]');
  if (v.length > MAX_CRM_PROPERTIES) fail('crmProperties', `at most ${MAX_CRM_PROPERTIES} properties; this has ${v.length}`);
  const out: string[] = [];
  v.forEach((name: unknown, i) => {
    if (typeof name !== 'string' || !PROPERTY_NAME.test(name))
      fail(`crmProperties[${i}]`, `must be a HubSpot property's internal name (letters, digits, _ . -), like "email"; got ${JSON.stringify(name)}`);
    if (!out.includes(name)) out.push(name);
  });
  return out;
}

/**
 * A draft of one action, not saved (a test of `action` in `POST …/actions/{actionId}/test`),
 * checked as a save would check it, under the field path `action`. Its inputs may take outputs of
 * the saved actions before the one it replaces (all of them when it is new); its id is `actionId`.
 */
export function parseDraftAction(raw: unknown, actionId: string, saved: readonly ActionDefinition[], bounds: LimitBounds = DEFAULT_LIMIT_BOUNDS): ActionDefinition {
  if (!isObj(raw)) fail('action', 'must be an action object like {"code": "exports.main = …", "inputFields": [...], "outputFields": [...]}');
  if (raw.id !== undefined && raw.id !== actionId) fail('action.id', `is "${String(raw.id)}" but the test is of action "${actionId}"; leave it out or make them equal`);
  const at = saved.findIndex((a) => a.actionId === actionId);
  const earlier = new Map((at < 0 ? saved : saved.slice(0, at)).map((a) => [a.actionId, a]));
  return parseAction({ ...raw, id: actionId }, 'action', at < 0 ? saved.length : at, earlier, bounds);
}

function parseAction(raw: unknown, path: string, index: number, earlier: Map<string, ActionDefinition>, bounds: LimitBounds): ActionDefinition {
  if (!isObj(raw)) fail(path, 'must be an object');
  refuseUnknown(raw, KNOWN_FIELDS.action, path);
  const actionId = str(raw.id ?? `action-${index + 1}`, `${path}.id`);
  if (!ACTION_ID.test(actionId)) fail(`${path}.id`, 'use lowercase letters, digits, "-" and "_" (at most 63)');
  if (earlier.has(actionId)) fail(`${path}.id`, `"${actionId}" is used by an earlier action; ids must be unique`);
  const runtime = str(raw.runtime ?? 'hubspot', `${path}.runtime`);
  if (!(RUNTIMES as readonly string[]).includes(runtime)) fail(`${path}.runtime`, `must be one of ${RUNTIMES.join(', ')}`);
  const runtimeVersion = parseRuntimeVersion(raw.runtimeVersion, `${path}.runtimeVersion`);
  const code = str(raw.code, `${path}.code`, { required: true });
  if (Buffer.byteLength(code) > MAX_CODE_BYTES) fail(`${path}.code`, `must be at most ${MAX_CODE_BYTES} bytes`);
  const syntax = codeSyntaxProblem(code);
  if (syntax) fail(`${path}.code`, `${syntax} of the action's code; fix it and save again`);

  const inputFields: InputFieldSource[] = [];
  const rawInputs = raw.inputFields ?? [];
  if (!Array.isArray(rawInputs)) fail(`${path}.inputFields`, 'must be an array');
  rawInputs.forEach((f: unknown, j) => inputFields.push(parseInput(f, `${path}.inputFields[${j}]`, earlier)));

  const outputFields: OutputFieldDefinition[] = [];
  const rawOutputs = raw.outputFields ?? [];
  if (!Array.isArray(rawOutputs)) fail(`${path}.outputFields`, 'must be an array');
  if (rawOutputs.length > OUTPUT_FIELDS_POLICY.maxFields) fail(`${path}.outputFields`, `at most ${OUTPUT_FIELDS_POLICY.maxFields} outputs per action`);
  const outNames = new Set<string>();
  rawOutputs.forEach((f: unknown, j) => {
    const p = `${path}.outputFields[${j}]`;
    if (!isObj(f)) fail(p, 'must be an object like {"name": "score", "type": "number"}');
    refuseUnknown(f, KNOWN_FIELDS.outputField, p);
    const name = str(f.name, `${p}.name`, { required: true });
    if (!NAME.test(name)) fail(`${p}.name`, `use letters, digits and "_", starting with a letter, at most ${OUTPUT_FIELDS_POLICY.maxNameChars} characters`);
    if (outNames.has(name)) fail(`${p}.name`, `"${name}" is declared twice`);
    outNames.add(name);
    const type = str(f.type, `${p}.type`, { required: true });
    if (!(OUTPUT_TYPES as readonly string[]).includes(type)) fail(`${p}.type`, `must be one of ${OUTPUT_TYPES.join(', ')}`);
    let options: string[] = [];
    if (type === 'enum') {
      if (!Array.isArray(f.options) || f.options.length === 0 || !f.options.every((o) => typeof o === 'string')) fail(`${p}.options`, 'an enum output needs a non-empty array of string options');
      options = f.options as string[];
    }
    outputFields.push({ name, type, options });
  });

  const secrets = raw.secrets ?? [];
  if (!Array.isArray(secrets) || !secrets.every(isValidSecretName))
    fail(`${path}.secrets`, `must be an array of secret names (letters, digits, "_", starting with a letter or "_", at most ${SECRETS_POLICY.maxNameChars} characters)`);
  const connections = raw.connections ?? [];
  if (!Array.isArray(connections) || !connections.every((s) => typeof s === 'string' && /^[a-z0-9-]{1,63}$/.test(s)))
    fail(`${path}.connections`, 'must be an array of connection handles (lowercase letters, digits, "-")');

  return {
    actionId,
    name: str(raw.name ?? actionId, `${path}.name`, { max: 200, shown: true }),
    runtime,
    code,
    inputFields,
    outputFields,
    secretNames: [...new Set(secrets as string[])],
    timeoutMs: limit(raw.timeoutMs, `${path}.timeoutMs`, LIMIT_MINIMUMS.timeoutMs, bounds.maxTimeoutMs, 'ms', bounds.timeoutBound),
    memoryMb: limit(raw.memoryMb, `${path}.memoryMb`, LIMIT_MINIMUMS.memoryMb, bounds.maxMemoryMb, 'MB', bounds.memoryBound),
    connectionHandles: [...new Set(connections as string[])],
    runtimeVersion,
  };
}

/** An action's runtime version as saved: absent → the default (HubSpot's Node 20 set); an alias → the version it stands for. */
function parseRuntimeVersion(v: unknown, path: string): RuntimeVersion {
  if (v === undefined || v === null) return DEFAULT_RUNTIME_VERSION;
  const resolved = typeof v === 'string' ? resolveRuntimeVersion(v) : undefined;
  if (resolved === undefined) throw new ValidationError(runtimeVersionProblem(path, v), { field: path });
  return resolved;
}

/** The runtime version a saved action runs: its own, or the set of its time if it was saved before versions existed. */
export function runtimeVersionOf(a: Pick<ActionDefinition, 'runtimeVersion'>): RuntimeVersion {
  return resolveRuntimeVersion(a.runtimeVersion) ?? LEGACY_RUNTIME_VERSION;
}

function parseInput(f: unknown, p: string, earlier: Map<string, ActionDefinition>): InputFieldSource {
  if (!isObj(f)) fail(p, 'must be an object like {"name": "email", "property": "email"}');
  refuseUnknown(f, KNOWN_FIELDS.inputField, p);
  const name = str(f.name, `${p}.name`, { required: true });
  if (!NAME.test(name)) fail(`${p}.name`, 'use letters, digits and "_", starting with a letter');
  const given = ['value', 'property', 'fromAction'].filter((k) => f[k] !== undefined);
  if (given.length !== 1) fail(p, 'give exactly one of "value" (a literal), "property" (of the enrolled object) or "fromAction" ({"actionId", "field"})');
  if (f.value !== undefined) {
    if (!['string', 'number', 'boolean'].includes(typeof f.value)) fail(`${p}.value`, 'must be a string, number or boolean');
    return { name, source: { $case: 'literal', value: String(f.value) } };
  }
  if (f.property !== undefined) return { name, source: { $case: 'objectProperty', value: str(f.property, `${p}.property`, { required: true }) } };
  const ref = f.fromAction;
  if (!isObj(ref)) fail(`${p}.fromAction`, 'must be {"actionId": ..., "field": ...}');
  const actionId = str(ref.actionId, `${p}.fromAction.actionId`, { required: true });
  const field = str(ref.field, `${p}.fromAction.field`, { required: true });
  const source = earlier.get(actionId);
  if (!source) fail(`${p}.fromAction.actionId`, `no earlier action has id "${actionId}"; an input can only take outputs of actions before it`);
  if (!source.outputFields.some((o) => o.name === field)) fail(`${p}.fromAction.field`, `action "${actionId}" declares no output "${field}"`);
  return { name, source: { $case: 'actionOutput', value: { actionId, field } } };
}

/**
 * The inverse of `parseWorkflowInput` for one action: the contract's ActionDefinition in the
 * JSON shape users send (and the API shows). Empty contract fields are left out.
 */
export function actionToInput(a: ActionDefinition): Record<string, unknown> {
  return {
    id: a.actionId || undefined,
    name: a.name || undefined,
    runtime: a.runtime || undefined,
    code: a.code,
    inputFields: a.inputFields.map((f) =>
      f.source?.$case === 'literal'
        ? { name: f.name, value: f.source.value }
        : f.source?.$case === 'objectProperty'
          ? { name: f.name, property: f.source.value }
          : { name: f.name, fromAction: f.source?.value },
    ),
    outputFields: a.outputFields.map((o) => (o.type === 'enum' ? { name: o.name, type: o.type, options: o.options } : { name: o.name, type: o.type })),
    secrets: a.secretNames,
    connections: a.connectionHandles,
    ...(a.timeoutMs ? { timeoutMs: a.timeoutMs } : {}),
    ...(a.memoryMb ? { memoryMb: a.memoryMb } : {}),
    // As stored: empty for an action saved before runtime versions, which a view shows as
    // runtimeVersionOf(a) and a new save (parseWorkflowInput) turns into the default.
    ...(a.runtimeVersion ? { runtimeVersion: a.runtimeVersion } : {}),
  };
}
