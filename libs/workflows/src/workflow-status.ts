/**
 * A workflow's lifecycle: `enabled` (the default: enrollments and webhook calls accepted),
 * `disabled` (new enrollments refused with WORKFLOW_DISABLED; running ones finish; it can still be
 * edited) and `archived` (deleted from the lists, refused like a disabled one with
 * WORKFLOW_ARCHIVED, not editable; its versions and history are kept, and enabling restores it).
 */
export const WORKFLOW_STATUSES = ['enabled', 'disabled', 'archived'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];

export function isWorkflowStatus(value: string): value is WorkflowStatus {
  return (WORKFLOW_STATUSES as readonly string[]).includes(value);
}
