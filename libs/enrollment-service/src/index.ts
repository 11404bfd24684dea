export { createEnrollmentService, type EnrollmentService, type EnrollmentServiceDeps } from './enrollment.service.ts';
