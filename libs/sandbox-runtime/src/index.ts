export { buildSandboxRuntime, loadSandboxRuntime, runtimeCacheKey, DEFAULT_CACHE_DIR, type BuildOptions, type BuildResult } from './runtime.build.ts';
export {
  ALLOWED_LIBRARIES,
  DEPENDENCY_LIBRARIES,
  LIBRARY_SUBPATHS,
  NODE_PLATFORM_LIBRARIES,
  RUNTIME_LIBRARY_SETS,
  isLibraryKey,
  libraryKey,
  NODE_BUILTIN_BUNDLES,
  NODE_BUILTIN_SHIMS,
  WEB_RUNTIME_MODULE,
  isInternalModule,
  type SandboxBridge,
  type SandboxRuntime,
  type Script,
} from './runtime.types.ts';
