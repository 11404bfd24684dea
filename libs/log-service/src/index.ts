export { PROJECTIONS, createLogService, ensureProjectionCollections, type LogService, type LogServiceDeps } from './log.service.ts';
