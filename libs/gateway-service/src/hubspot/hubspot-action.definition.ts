/**
 * The "Run codestep workflow" custom workflow action as HubSpot's automation v4 definitions API
 * takes it, and publishing it (create, or update the definition already pointing at this
 * codestep). Its first input field chooses the codestep workflow from the options codestep serves
 * (the installing account's workflows); the others are record properties (`OBJECT_PROPERTY`) or
 * fixed values (`STATIC_VALUE`) the workflow reads as object properties; the output fields are
 * the workflows' typed outputs, so later HubSpot actions can use them.
 */
import { ValidationError } from '@codestep/core';
import { WORKFLOW_INPUT } from './hubspot-actions.routes.ts';

export interface ActionFieldSpec {
  name: string;
  /** HubSpot property type: string, number, bool, datetime, enumeration, date, phone_number. */
  type: string;
}

export interface ActionDefinitionInput {
  /** The base HubSpot calls (CODESTEP_PUBLIC_URL). */
  publicUrl: string;
  /** Record properties (or static values) passed to the workflow. @default email, firstname, lastname */
  inputs?: ReadonlyArray<ActionFieldSpec & { valueTypes?: ReadonlyArray<'OBJECT_PROPERTY' | 'STATIC_VALUE'> }>;
  /** The outputs HubSpot offers to later actions (the chosen workflows' typed outputs). */
  outputs?: readonly ActionFieldSpec[];
  /** @default ['CONTACT'] */
  objectTypes?: readonly string[];
  /** @default true */
  published?: boolean;
}

/** Our output types → HubSpot's field type definitions. */
const FIELD_TYPES: Readonly<Record<string, { type: string; fieldType: string }>> = {
  string: { type: 'string', fieldType: 'text' },
  number: { type: 'number', fieldType: 'number' },
  boolean: { type: 'bool', fieldType: 'booleancheckbox' },
  bool: { type: 'bool', fieldType: 'booleancheckbox' },
  datetime: { type: 'datetime', fieldType: 'date' },
  date: { type: 'date', fieldType: 'date' },
  enum: { type: 'enumeration', fieldType: 'select' },
  enumeration: { type: 'enumeration', fieldType: 'select' },
  phone_number: { type: 'phone_number', fieldType: 'phonenumber' },
};

function typeDefinition(f: ActionFieldSpec) {
  const t = FIELD_TYPES[f.type];
  if (!t) throw new ValidationError(`field "${f.name}": type must be one of ${Object.keys(FIELD_TYPES).join(', ')}`);
  return { name: f.name, ...t };
}

/** The definition codestep publishes (what the README shows). */
export function hubspotActionDefinition(input: ActionDefinitionInput): Record<string, unknown> {
  const base = input.publicUrl.replace(/\/+$/, '');
  if (!URL.canParse(base)) throw new ValidationError(`the public URL ${JSON.stringify(base)} is not an absolute URL: set CODESTEP_PUBLIC_URL to the address HubSpot reaches`);
  const inputs = input.inputs ?? [
    { name: 'email', type: 'string' },
    { name: 'firstname', type: 'string' },
    { name: 'lastname', type: 'string' },
  ];
  // `codestep_error` carries a failed workflow's error (with hs_execution_state FAIL_CONTINUE), so later actions and branches can see it.
  const outputs = [...(input.outputs ?? []).filter((o) => o.name !== 'codestep_error'), { name: 'codestep_error', type: 'string' }];
  return {
    actionUrl: `${base}/integrations/hubspot/actions`,
    published: input.published ?? true,
    objectTypes: [...(input.objectTypes ?? ['CONTACT'])],
    inputFields: [
      {
        typeDefinition: { name: WORKFLOW_INPUT, type: 'enumeration', fieldType: 'select', optionsUrl: `${base}/integrations/hubspot/actions/workflow-options` },
        supportedValueTypes: ['STATIC_VALUE'],
        isRequired: true,
      },
      ...inputs.map((f) => ({ typeDefinition: typeDefinition(f), supportedValueTypes: [...(('valueTypes' in f && f.valueTypes) || ['OBJECT_PROPERTY', 'STATIC_VALUE'])], isRequired: false })),
    ],
    outputFields: outputs.map((f) => ({ typeDefinition: typeDefinition(f) })),
    labels: {
      en: {
        actionName: 'Run codestep workflow',
        actionDescription: 'Runs a codestep workflow (custom JavaScript actions, self-hosted) for the enrolled record and returns its outputs.',
        actionCardContent: 'Run codestep workflow {{codestep_workflow}}',
        inputFieldLabels: Object.fromEntries([[WORKFLOW_INPUT, 'codestep workflow'], ...inputs.map((f) => [f.name, f.name])]),
        outputFieldLabels: Object.fromEntries(outputs.map((f) => [f.name, f.name])),
      },
    },
  };
}

export interface PublishInput {
  apiBaseUrl: string;
  appId: number;
  developerApiKey: string;
  definition: Record<string, unknown>;
  fetch?: typeof fetch;
}

/** Creates the definition, or updates the one whose actionUrl is ours; what HubSpot answered. */
export async function publishHubSpotAction(input: PublishInput): Promise<{ created: boolean; definition: { id: string; revisionId?: string } & Record<string, unknown> }> {
  const doFetch = input.fetch ?? fetch;
  const base = `${input.apiBaseUrl.replace(/\/+$/, '')}/automation/v4/actions/${input.appId}`;
  const key = `hapikey=${encodeURIComponent(input.developerApiKey)}`;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await doFetch(url, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    if (!res.ok) throw new ValidationError(`HubSpot answered ${method} ${url.replace(/hapikey=[^&]+/, 'hapikey=…')} with HTTP ${res.status}: ${text.slice(0, 400)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const existing = ((await call('GET', `${base}?${key}`)).results ?? []) as Array<{ id: string; actionUrl?: string }>;
  const mine = existing.find((d) => d.actionUrl === input.definition.actionUrl);
  if (mine) return { created: false, definition: (await call('PATCH', `${base}/${mine.id}?${key}`, input.definition)) as { id: string } };
  return { created: true, definition: (await call('POST', `${base}?${key}`, input.definition)) as { id: string } };
}
