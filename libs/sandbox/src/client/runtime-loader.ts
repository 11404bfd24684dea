/**
 * Loads the in-context runtime (prelude and libraries) from `@codestep/sandbox-runtime`, in the
 * client process: building it may spawn esbuild and write its cache, neither of which the
 * sandbox host is allowed to do. The sources then travel to the host in its `init` message.
 */
import type { Logger } from '@codestep/core';
import { LIBRARY_SUBPATHS, loadSandboxRuntime } from '@codestep/sandbox-runtime';
import type { SandboxRuntimeSources } from '../sandbox.types.ts';

export async function loadDefaultRuntime(logger: Logger): Promise<SandboxRuntimeSources> {
  const started = performance.now();
  const runtime = await loadSandboxRuntime();
  logger.debug({ version: runtime.version, ms: Math.round(performance.now() - started) }, 'sandbox runtime loaded');
  return { ...runtime, subpaths: { ...LIBRARY_SUBPATHS } };
}
