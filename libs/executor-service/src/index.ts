export { createExecutorService, type ExecutorPorts, type ExecutorService, type ExecutorServiceDeps, type ExecutorLimits } from './executor.service.ts';
