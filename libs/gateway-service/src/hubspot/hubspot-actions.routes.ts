/**
 * The HubSpot app's receivers for its custom workflow action (automation v4), outside `/v1`
 * because HubSpot calls them, not a tenant's API key:
 *
 * - `POST /integrations/hubspot/actions`: one execution of the action in a HubSpot workflow.
 *   Signature checked (v3 when sent, else v2), portal → tenant through the broker's connection,
 *   the chosen codestep workflow (input field `codestep_workflow`) enrolled with HubSpot's
 *   object, input fields, portal id and callback id — once per callback id, however often HubSpot
 *   retries. Finished within the answer budget: `{ outputFields }`; otherwise
 *   `hs_execution_state: BLOCK` and the callback is completed later (`hubspot-callbacks.ts`).
 * - `POST /integrations/hubspot/actions/workflow-options`: the `optionsUrl` of that input field,
 *   the tenant's workflows.
 *
 * Nothing is enrolled for a request that fails its signature (401), names a portal no tenant
 * installed the app in (404), or a workflow the tenant does not have (404).
 */
import type { historyV1 } from '@codestep/contracts';
import { CodestepError, NotFoundError, UnauthenticatedError, ValidationError, deterministicId } from '@codestep/core';
import { fieldMapToPlain, toRecord } from '@codestep/events';
import type { EventLog } from '@codestep/event-log';
import { tenantScoped, type DocumentStore } from '@codestep/store';
import type { ApiClients } from '../api.routes.ts';
import { FALLBACK_READ_MS, historyChangesOf, readUntil, type HistoryWatch } from '../history-changes.ts';
import { parseJsonBody } from '../request-input.parser.ts';
import type { Route, RouteRequest } from '../router.ts';
import type { TenantLimitsOf } from '../tenant-limits.routes.ts';
import type { CrmPrefetcher, CrmPropertiesFetcher } from './crm-properties.ts';
import { CALLBACKS, callbackOutcome, ensureCallbackCollection, moveCallback, outputFieldsOf, type CallbackDoc } from './hubspot-callbacks.ts';
import { verifyHubSpotSignature } from './hubspot-signature.ts';
import { isoDurationMs, type HubSpotAppSettings } from './hubspot.settings.ts';
import type { PortalOwner, PortalOwners } from './portal-owners.ts';

/** The action's input field that names the codestep workflow to run. */
export const WORKFLOW_INPUT = 'codestep_workflow';

export interface HubSpotRouteDeps {
  clients: ApiClients & { credentials: NonNullable<ApiClients['credentials']> };
  store: DocumentStore;
  eventLog: EventLog;
  limitsOf: TenantLimitsOf;
  clock: () => number;
  /** The operator's HubSpot app; absent: the routes answer 503 saying what to configure. */
  settings: HubSpotAppSettings | undefined;
  /** Reads workflows' `crmProperties` from HubSpot before they enroll (`./crm-properties.ts`); absent: nothing read. */
  fetchCrmProperties?: CrmPropertiesFetcher;
  /** Batch-reads what several enrollments of one webhook delivery need (`./crm-properties.ts`). */
  prefetchCrmProperties?: CrmPrefetcher;
  /**
   * How long a webhook delivery may spend reading crmProperties from HubSpot (its requests and its
   * waits for HubSpot's 429/5XX), ms: HubSpot counts a slow answer as failed and retries the
   * delivery. Reads left when it runs out fail (recorded in each enrollment's `crmRead.error`);
   * the enrollments are requested all the same. @default 2000
   */
  webhookReadBudgetMs?: number;
  /** Portal → tenant kept between connection changes (`./portal-owners.ts`); absent: the broker is asked on every call. */
  portalOwners?: PortalOwners;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The app's settings, or a 503 naming what the operator must set. */
export function requireSettings(deps: HubSpotRouteDeps): HubSpotAppSettings {
  if (!deps.settings) {
    throw new CodestepError(
      'FAILED_PRECONDITION',
      'this codestep is not set up as a HubSpot app: the operator must set HUBSPOT_APP_ID, HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and CODESTEP_PUBLIC_URL',
    );
  }
  return deps.settings;
}

/** The request's JSON after its HubSpot signature checked out (401 otherwise). */
export function verifiedBody(deps: HubSpotRouteDeps, req: RouteRequest): unknown {
  const settings = requireSettings(deps);
  const url = `${settings.publicUrl.replace(/\/+$/, '')}${req.target ?? ''}`;
  const check = verifyHubSpotSignature({ method: 'POST', url, body: req.rawBody ?? Buffer.alloc(0), headers: req.headers }, settings.clientSecret, deps.clock());
  if (!check.ok) throw new UnauthenticatedError(`HubSpot signature refused: ${check.reason}. Nothing was enrolled. (Signed URL checked: ${url}; CODESTEP_PUBLIC_URL must be the base HubSpot calls.)`);
  return parseJsonBody((req.rawBody ?? Buffer.alloc(0)).toString('utf8'));
}

/**
 * The tenant and connection that installed the app in `portalId` (404 / 409 from the broker
 * otherwise): kept by `deps.portalOwners` between connection changes, else asked each time.
 */
export async function portalOwner(deps: HubSpotRouteDeps, portalId: number): Promise<PortalOwner> {
  if (deps.portalOwners) return deps.portalOwners.of(portalId);
  const c = await deps.clients.credentials.findAccountConnection({ provider: 'hubspot', accountId: String(portalId) });
  return { tenantId: c.tenantId, handle: c.handle };
}

export interface ActionExecution {
  callbackId: string;
  portalId: number;
  actionDefinitionId: string;
  actionDefinitionVersion: number;
  source: string;
  hubspotWorkflowId: string;
  objectId: string;
  objectType: string;
  inputFields: Record<string, unknown>;
}

/** HubSpot's execution request, checked field by field. */
export function parseExecution(body: unknown): ActionExecution {
  if (!isObj(body)) throw new ValidationError('the body must be HubSpot’s action execution object ({ callbackId, origin, object, inputFields })');
  const { callbackId, origin, context, object, inputFields } = body;
  if (typeof callbackId !== 'string' || !/^[\w.:-]{1,200}$/.test(callbackId)) throw new ValidationError('callbackId must be HubSpot’s callback id (a string)', { field: 'callbackId' });
  if (!isObj(origin) || !Number.isSafeInteger(origin.portalId) || (origin.portalId as number) <= 0 || (origin.portalId as number) > 0xffffffff) {
    throw new ValidationError('origin.portalId must be the HubSpot portal id (a positive integer)', { field: 'origin.portalId' });
  }
  if (!isObj(object) || (typeof object.objectId !== 'number' && typeof object.objectId !== 'string') || String(object.objectId) === '') {
    throw new ValidationError('object.objectId must be the enrolled record’s id', { field: 'object.objectId' });
  }
  if (inputFields !== undefined && !isObj(inputFields)) throw new ValidationError('inputFields must be an object', { field: 'inputFields' });
  return {
    callbackId,
    portalId: origin.portalId as number,
    actionDefinitionId: String(origin.actionDefinitionId ?? ''),
    actionDefinitionVersion: Number.isSafeInteger(origin.actionDefinitionVersion) ? (origin.actionDefinitionVersion as number) : 0,
    source: isObj(context) && typeof context.source === 'string' ? context.source : '',
    hubspotWorkflowId: isObj(context) && context.workflowId !== undefined ? String(context.workflowId) : '',
    objectId: String(object.objectId),
    objectType: typeof object.objectType === 'string' ? object.objectType.toUpperCase() : 'CONTACT',
    inputFields: inputFields ?? {},
  };
}

/** Input fields as object properties (strings, as CRM properties are); the workflow choice left out. */
function propertiesOf(inputFields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(inputFields)) {
    if (k === WORKFLOW_INPUT || v === null || v === undefined) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  }
  return out;
}

/** The events after which the enrollment may have finished. */
const FINISHED_EVENTS: ReadonlySet<string> = new Set(['EnrollmentCompleted', 'EnrollmentFailed']);

/**
 * The enrollment once it finished within the budget (read again each time its history says it
 * may have), else undefined. `changedFirst`: the watch was opened before the enrollment was
 * requested, so its end cannot have been missed: no read before the first change (a read then
 * finds nothing projected yet, or the enrollment running).
 */
async function waitFor(
  deps: HubSpotRouteDeps,
  tenantId: string,
  enrollmentId: string,
  until: number,
  watch: HistoryWatch,
  changedFirst: boolean,
  signal?: AbortSignal,
): Promise<historyV1.EnrollmentView | undefined> {
  if (changedFirst) {
    const left = until - deps.clock();
    if (left > 0) await watch.changed(Math.min(left, FALLBACK_READ_MS), signal);
  }
  const view = await readUntil(
    watch,
    () => deps.clients.history.getEnrollment({ tenantId, enrollmentId }),
    (v) => v.status !== 'running',
    until,
    deps.clock,
    signal,
  );
  return view && view.status !== 'running' ? view : undefined;
}

function outputsOf(view: historyV1.EnrollmentView): Record<string, unknown> {
  if (view.status === 'failed') return outputFieldsOf({ error: view.error?.message ?? 'the workflow failed' });
  const byAction: Record<string, Record<string, unknown>> = {};
  for (const x of view.executions) if (x.status === 'succeeded') byAction[x.actionId] = fieldMapToPlain(x.outputFields);
  return outputFieldsOf({ outputs: byAction });
}

async function handleExecution(deps: HubSpotRouteDeps, req: RouteRequest) {
  const settings = requireSettings(deps);
  const exec = parseExecution(verifiedBody(deps, req));
  const { tenantId, handle } = await portalOwner(deps, exec.portalId);
  const workflowId = exec.inputFields[WORKFLOW_INPUT];
  if (typeof workflowId !== 'string' || workflowId === '') {
    throw new ValidationError(`the action's input field "${WORKFLOW_INPUT}" must name a codestep workflow: choose one in the HubSpot workflow's action`, { field: `inputFields.${WORKFLOW_INPUT}` });
  }
  const now = deps.clock();
  const answerBy = now + settings.answerWithinMs;
  const scoped = tenantScoped(deps.store, tenantId);
  // Side by side: the workflow (its crmProperties; 404 before anything is enrolled or recorded) and the tenant's limits.
  const [workflow, { policy }] = await Promise.all([
    deps.clients.workflows.getWorkflow({ tenantId, workflowId, version: 0 }).catch((e: unknown) => {
      throw e instanceof CodestepError && e.code === 'NOT_FOUND'
        ? new NotFoundError(`workflow ${workflowId} chosen in the HubSpot action does not exist in the codestep account that installed the app in portal ${exec.portalId}; choose another`)
        : e;
    }),
    deps.limitsOf(tenantId),
  ]);
  const requestId = `hubspot-callback:${exec.callbackId}`;
  // The enrollment's history watched before it is requested (the enrollment service derives its id
  // from the request id), so its end is pushed and read once (over the history's Tail stream, one
  // that ended before the stream was set up on the other side is found by the fallback read). A
  // retry of HubSpot's whose enrollment ended before it came reads after the fallback interval too.
  const expectedId = deterministicId('enr', tenantId, requestId);
  const watch = historyChangesOf(deps.clients).watch(tenantId, expectedId, FINISHED_EVENTS);
  try {
    const sent = { objectType: exec.objectType, objectId: exec.objectId, properties: propertiesOf(exec.inputFields) };
    // Read within the answer budget (HubSpot is answered BLOCK, not kept waiting, when it limits the read).
    const deadline = Date.now() + settings.answerWithinMs;
    const { object, crmRead } = deps.fetchCrmProperties
      ? await deps.fetchCrmProperties({ tenantId, workflowId, object: sent, connection: handle, workflow, deadline })
      : { object: sent, crmRead: undefined };
    const out = await deps.clients.enrollments.enroll({
      tenantId,
      workflowId,
      object,
      crmRead,
      requestId,
      portalId: exec.portalId,
      trigger: undefined,
      limits: policy,
      hubspot: {
        portalId: exec.portalId,
        connectionHandle: handle,
        callbackId: exec.callbackId,
        actionDefinitionId: exec.actionDefinitionId,
        actionDefinitionVersion: exec.actionDefinitionVersion,
        source: exec.source,
        workflowId: exec.hubspotWorkflowId,
        subscriptionType: '',
        eventId: '',
      },
    });
    const enrollmentId = out.enrollmentId;
    const view =
      enrollmentId === expectedId
        ? await waitFor(deps, tenantId, enrollmentId, answerBy, watch, true, req.signal)
        : await withWatch(deps, tenantId, enrollmentId, (w) => waitFor(deps, tenantId, enrollmentId, answerBy, w, false, req.signal));
    // The callback record, written once as this request decides: the first writer of a callback's
    // record decides how HubSpot is answered (this request, a retry of HubSpot's, or a completer
    // once the budget ran out, `hubspot-callbacks.ts`).
    const record: CallbackDoc = { callbackId: exec.callbackId, enrollmentId, portalId: exec.portalId, handle, state: 'answered', receivedAt: now, answerBy, leaseUntil: 0, attempts: 0 };
    if (view) {
      // Answered before (HubSpot's retry of an answered request; a record of an older gateway still
      // `waiting`): the same answer again; decided otherwise (BLOCKed, being completed): BLOCK again.
      const answered = (await scoped.insertIfAbsent(CALLBACKS, exec.callbackId, record))
        ? record
        : await moveCallback(deps.store, tenantId, exec.callbackId, ['waiting', 'answered'], 'answered', { enrollmentId });
      if (answered) {
        const outputFields = outputsOf(view);
        const outcome = callbackOutcome(tenantId, answered, { executionState: String(outputFields['hs_execution_state'] ?? 'SUCCESS'), outcome: 'answered' }, deps.clock());
        await deps.eventLog.append([toRecord(outcome)]);
        return { status: 200, body: { outputFields }, headers: { 'x-codestep-enrollment-id': enrollmentId } };
      }
      return block(settings, enrollmentId);
    }
    // Nobody answered yet: this request answers BLOCK, the completer calls HubSpot back when it is done
    // (HubSpot takes the callback until the block expires: the completer's last attempt).
    const expiresAt = deps.clock() + (isoDurationMs(settings.blockExpiration) ?? 86_400_000);
    if (!(await scoped.insertIfAbsent(CALLBACKS, exec.callbackId, { ...record, state: 'blocked', expiresAt }))) {
      await moveCallback(deps.store, tenantId, exec.callbackId, ['waiting'], 'blocked', { enrollmentId, expiresAt });
    }
    return block(settings, enrollmentId);
  } finally {
    watch.close();
  }
}

/** `fn` with a watch of the enrollment's history, closed after. */
async function withWatch<T>(deps: HubSpotRouteDeps, tenantId: string, enrollmentId: string, fn: (watch: HistoryWatch) => Promise<T>): Promise<T> {
  const watch = historyChangesOf(deps.clients).watch(tenantId, enrollmentId, FINISHED_EVENTS);
  try {
    return await fn(watch);
  } finally {
    watch.close();
  }
}

/** HubSpot's "wait for my callback" answer. */
function block(settings: HubSpotAppSettings, enrollmentId: string) {
  return { status: 200, body: { outputFields: { hs_execution_state: 'BLOCK', hs_expiration_duration: settings.blockExpiration } }, headers: { 'x-codestep-enrollment-id': enrollmentId } };
}

async function handleOptions(deps: HubSpotRouteDeps, req: RouteRequest) {
  const body = verifiedBody(deps, req);
  const origin = isObj(body) && isObj(body.origin) ? body.origin : {};
  const portalId = Number(origin.portalId ?? (isObj(body) ? body.portalId : undefined));
  if (!Number.isSafeInteger(portalId) || portalId <= 0) throw new ValidationError('origin.portalId must be the HubSpot portal id', { field: 'origin.portalId' });
  const { tenantId } = await portalOwner(deps, portalId);
  const q = isObj(body) && isObj(body.fetchOptions) && typeof body.fetchOptions.q === 'string' ? body.fetchOptions.q.toLowerCase() : '';
  const { workflows } = await deps.clients.workflows.listWorkflows({ tenantId });
  const options = workflows
    .filter((w) => !q || w.name.toLowerCase().includes(q) || w.workflowId.includes(q))
    .map((w) => ({ label: w.name, value: w.workflowId, description: `${w.actions.length} action(s), version ${w.version}` }));
  return { status: 200, body: { options, searchable: true } };
}

export async function hubspotActionRoutes(deps: HubSpotRouteDeps): Promise<Route[]> {
  await ensureCallbackCollection(deps.store, deps.eventLog);
  return [
    { method: 'POST', path: '/integrations/hubspot/actions', auth: 'none', rawBody: true, handle: (req) => handleExecution(deps, req) },
    { method: 'POST', path: '/integrations/hubspot/actions/workflow-options', auth: 'none', rawBody: true, handle: (req) => handleOptions(deps, req) },
  ];
}
