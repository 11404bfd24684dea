/**
 * Prepares an action request for the sandbox before it is claimed: the workflow version's action,
 * its secrets (asked for under the request's execution grant), and its limits. The request states the limits resolved for the tenant when the
 * action was requested; an older request (none stated) takes the action's own or this executor's
 * defaults; either way never above this executor's operator bounds. A peer that is down or slow
 * (TRANSIENT codes) throws, so the request is delivered again after a back-off instead of
 * spending an attempt of the action; any other problem becomes the action's failure.
 */
import type { ActionDefinition, ActionRequested } from '@codestep/contracts';
import { HUBSPOT_TOKEN_SECRET, isCodestepError, type StepSchedulingBounds } from '@codestep/core';
import type { ExecutionRequest, ExecutionResult } from '@codestep/sandbox';
import { currentTraceparent } from '@codestep/telemetry';
import { requestLimits, type OperatorLimits } from '@codestep/workflows';
import { executionRequestOf, failure } from './execution.mapping.ts';
import type { WorkflowLookup } from './workflow-version.cache.ts';

/** Codes of a peer that is down or slow: retried by redelivery, not reported as a failure. */
export const TRANSIENT = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);

/** A request ready for the sandbox, with what its action may use while it runs. */
export interface Prepared {
  request: ExecutionRequest;
  workflowId: string;
  enrollmentId: string;
  /** The OAuth connection handles the action declares. */
  handles: string[];
  /** The request's execution grant, for the tokens the action asks for while it runs ('' when it carries none). */
  grant: string;
}

/** What an {@link ExecutionPreparer} works with. */
export interface ExecutionPreparerDeps {
  getWorkflow: WorkflowLookup;
  resolveSecrets(request: { tenantId: string; workflowId: string; executionId: string; names: string[]; grant: string }): Promise<{ values: Record<string, string>; missing: string[] }>;
  /** A connection's token under the request's grant (the HubSpot portal's token, `HUBSPOT_ACCESS_TOKEN`). */
  getOAuthToken?(request: { tenantId: string; workflowId: string; executionId: string; handle: string; declaredHandles: string[]; grant: string }): Promise<{ token?: string; error?: string }>;
  /** This executor's operator limits. */
  limits: OperatorLimits;
  /** The bounds JsWorkflows' `api.scheduleNextStep` is held to. @default `DEFAULT_STEP_POLICY` of `@codestep/core` */
  steps?: StepSchedulingBounds;
}

/** What the sandbox needs, or the failure to report; throws only for a peer that is down (`req.context` must be set). */
export type ExecutionPreparer = (tenantId: string, req: ActionRequested) => Promise<Prepared | { failure: ExecutionResult }>;

/** Creates the {@link ExecutionPreparer} of one executor. */
export function createExecutionPreparer(deps: ExecutionPreparerDeps): ExecutionPreparer {
  /** The action and its secrets, or the failure to report. */
  async function resolve(tenantId: string, req: ActionRequested): Promise<{ action: ActionDefinition; secrets: Record<string, string> } | { failure: ExecutionResult }> {
    const ctx = req.context!;
    try {
      // A test of a draft not yet saved carries its action; otherwise the saved version's.
      const action = req.draftAction ?? (await deps.getWorkflow(tenantId, ctx.workflowId, ctx.workflowVersion)).actions[ctx.stepIndex];
      if (!action) throw new Error(`workflow ${ctx.workflowId} v${ctx.workflowVersion} has no step ${ctx.stepIndex}`);
      if (!action.secretNames.length) return { action, secrets: {} };
      const portalToken = await hubspotToken(tenantId, req, action);
      if (portalToken && 'failure' in portalToken) return portalToken;
      const names = portalToken ? action.secretNames.filter((n) => n !== HUBSPOT_TOKEN_SECRET) : action.secretNames;
      const resolved = names.length ? await deps.resolveSecrets({ tenantId, workflowId: ctx.workflowId, executionId: req.executionId, names, grant: req.grant ?? '' }) : { values: {}, missing: [] };
      if (resolved.missing.length)
        return { failure: failure('SECRET_NOT_FOUND', `secret(s) ${resolved.missing.join(', ')} selected for this action do not exist; add them with PUT /v1/secrets/{name}`) };
      return { action, secrets: { ...resolved.values, ...portalToken?.secrets } };
    } catch (error) {
      if (isCodestepError(error) && TRANSIENT.has(error.code)) throw error;
      return { failure: failure('EXECUTOR_ERROR', `could not prepare the action: ${error instanceof Error ? error.message : String(error)}`) };
    }
  }
  /**
   * `HUBSPOT_ACCESS_TOKEN` of an enrollment that came from HubSpot: the token of the connection
   * installed in that portal (undefined: not selected, or not from HubSpot — an ordinary secret).
   */
  async function hubspotToken(tenantId: string, req: ActionRequested, action: ActionDefinition): Promise<{ secrets: Record<string, string> } | { failure: ExecutionResult } | undefined> {
    const handle = req.context?.hubspot?.connectionHandle;
    if (!handle || !action.secretNames.includes(HUBSPOT_TOKEN_SECRET) || !deps.getOAuthToken) return undefined;
    const out = await deps.getOAuthToken({ tenantId, workflowId: req.context!.workflowId, executionId: req.executionId, handle, declaredHandles: [handle], grant: req.grant ?? '' });
    if (out.token) return { secrets: { [HUBSPOT_TOKEN_SECRET]: out.token } };
    return {
      failure: failure('NEEDS_REAUTH', `no HubSpot token for portal ${req.context?.hubspot?.portalId ?? ''}: reconnect HubSpot (POST /v1/connections/${handle}/authorize). ${out.error ?? ''}`.trim()),
    };
  }

  return async (tenantId, req) => {
    const resolved = await resolve(tenantId, req);
    if ('failure' in resolved) return resolved;
    const { action, secrets } = resolved;
    const limits = requestLimits(req.limits, action, deps.limits);
    const traceparent = currentTraceparent();
    const request = executionRequestOf({ req, tenantId, action, secrets, limits, traceparent, steps: deps.steps });
    return { request, workflowId: req.context!.workflowId, enrollmentId: req.context!.enrollmentId, handles: action.connectionHandles, grant: req.grant ?? '' };
  };
}
