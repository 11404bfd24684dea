export {
  applyToEnrollment,
  applyToExecution,
  applyToConsoleLines,
  type EnrollmentDoc,
  type ErrorView,
  type ExecutionDoc,
  type ExecutionConsoleDoc,
  type ExecutionStatus,
  type LogLineView,
} from './history.projection.ts';
