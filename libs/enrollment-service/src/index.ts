export { createEnrollmentService, type EnrollmentService, type EnrollmentServiceDeps } from './enrollment.service.ts';
export { ENROLL_REQUESTS, enrollRequestsProjection } from './enroll-requests.projection.ts';
export { RETRY_TIMERS, retryTimersProjection } from './retry-timers.projection.ts';
export { WORKFLOW_COLLECTIONS, workflowsProjection } from './workflows.projection.ts';
export { createGrantStamper, type GrantSettings, type GrantStamper } from './execution-grant.stamper.ts';
export { ENROLLMENT_STATE_COLLECTIONS, enrollmentStatesProjection } from './enrollment-states.projection.ts';
export { WORKFLOW_RUNS, workflowRunsProjection } from './workflow-runs.projection.ts';
export { SCHEDULES, schedulesProjection, type ScheduleDoc } from './schedules.projection.ts';
export { tickRequestId } from './schedule.ticker.ts';
