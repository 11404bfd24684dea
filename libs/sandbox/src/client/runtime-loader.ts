/**
 * Loads the in-context runtime from `@codestep/sandbox-runtime`. Without it the sandbox still
 * runs plain actions, but `fetch`, `Buffer`, `URL` and every library are missing: that is
 * logged loudly, never hidden.
 */
import type { Logger } from '@codestep/core';
import type { SandboxRuntimeSources } from '../sandbox.types.ts';

export async function loadDefaultRuntime(logger: Logger): Promise<SandboxRuntimeSources | null> {
  // A variable specifier: the runtime package is resolved at run time, not by the type checker.
  const specifier = '@codestep/sandbox-runtime';
  try {
    const runtime = (await import(specifier)) as { loadSandboxRuntime?: () => Promise<SandboxRuntimeSources> };
    if (typeof runtime.loadSandboxRuntime !== 'function') {
      logger.error({}, '@codestep/sandbox-runtime has no loadSandboxRuntime(); actions run without fetch, Buffer, URL or libraries');
      return null;
    }
    return await runtime.loadSandboxRuntime();
  } catch (error) {
    logger.error({ error: error instanceof Error ? error.message : String(error) }, '@codestep/sandbox-runtime could not be loaded; actions run without fetch, Buffer, URL or libraries');
    return null;
  }
}
