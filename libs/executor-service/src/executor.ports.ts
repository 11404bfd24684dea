/**
 * What the executor asks of other services (workflows, secrets, OAuth connections). Secrets and
 * tokens are asked for under the action request's execution grant, which the broker checks.
 */
import type { WorkflowDefinition } from '@codestep/contracts';

/** The executor's ports to the services it depends on. */
export interface ExecutorPorts {
  getWorkflow(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition>;
  /**
   * A token of one of the tenant's OAuth connections; never throws for expected failures. `grant`
   * is the execution grant of the action request (empty when it carries none: the broker refuses).
   */
  getOAuthToken(request: { tenantId: string; workflowId: string; executionId: string; handle: string; declaredHandles: string[]; grant: string }): Promise<{ token?: string; error?: string }>;
  /** Values of the named secrets of the tenant (only those the action declares), under the request's execution grant. */
  resolveSecrets(request: { tenantId: string; workflowId: string; executionId: string; names: string[]; grant: string }): Promise<{ values: Record<string, string>; missing: string[] }>;
}
