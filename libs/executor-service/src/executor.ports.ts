/** What the executor asks of other services (workflows, secrets, OAuth connections). */
import type { WorkflowDefinition } from '@codestep/contracts';

/** The executor's ports to the services it depends on. */
export interface ExecutorPorts {
  getWorkflow(tenantId: string, workflowId: string, version: number): Promise<WorkflowDefinition>;
  /** A token of one of the tenant's OAuth connections; never throws for expected failures. */
  getOAuthToken(request: { tenantId: string; workflowId: string; executionId: string; handle: string; declaredHandles: string[] }): Promise<{ token?: string; error?: string }>;
  /** Values of the named secrets of the tenant (only those the action declares). */
  resolveSecrets(request: { tenantId: string; workflowId: string; executionId: string; names: string[] }): Promise<{ values: Record<string, string>; missing: string[] }>;
}
