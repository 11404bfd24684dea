export {
  applyToEnrollment,
  applyToExecution,
  applyToLogs,
  type EnrollmentDoc,
  type ErrorView,
  type ExecutionDoc,
  type ExecutionLogsDoc,
  type ExecutionStatus,
  type LogLineView,
} from './history.projection.ts';
