export { createRuntimeContext, ScriptCache, type RuntimeContext, type RuntimeContextOptions } from './runtime-context.ts';
export { startLocalApi, type LocalApi } from './local-api.server.ts';
