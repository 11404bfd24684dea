export { createExecutorService, type ExecutorPorts, type ExecutorService, type ExecutorServiceDeps, type TenantLimits } from './executor.service.ts';
