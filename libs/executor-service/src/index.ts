export {
  DEFAULT_CLAIM_LEASE_MS,
  DEFAULT_DETACH_AFTER_MS,
  DEFAULT_LEASE_REAPER_INTERVAL_MS,
  createExecutorService,
  type ExecutorPorts,
  type ExecutorService,
  type ExecutorServiceDeps,
  type ExecutorLimits,
} from './executor.service.ts';
export { DEFAULT_RUN_STATE_SETTINGS, type RunStateSettings } from './run-state.store.ts';
export { CLAIMS } from './claim.store.ts';
