/**
 * The settings a host process is started with (`init`), built once per sandbox from its
 * options, the worker bundle and the loaded runtime.
 */
import type { Logger } from '@codestep/core';
import { compileSocketAllowList } from '@codestep/egress';
import { DEFAULT_LIMITS } from '../limits.ts';
import type { HostSettings, RuntimeSources } from '../protocol.ts';
import type { SandboxOptions, SandboxRuntimeSources } from '../sandbox.types.ts';

/** The host's settings; a runtime library that contains `import()` is logged as an error. */
export function hostSettingsOf(options: SandboxOptions, workerSource: string, runtime: SandboxRuntimeSources | null, logger: Logger): HostSettings {
  // A bad entry fails here, when the sandbox is created, not at an action's first connection.
  compileSocketAllowList(options.egress?.allowSockets ?? []);
  const settings: HostSettings = {
    poolSize: Math.max(1, Math.floor(options.poolSize ?? 2)),
    defaultMemoryMb: options.defaultMemoryMb ?? DEFAULT_LIMITS.memoryMb,
    ...(options.hostMemoryCeilingMb === undefined ? {} : { memoryCeilingMb: options.hostMemoryCeilingMb }),
    egress: {
      allowHosts: [...(options.egress?.allowHosts ?? [])],
      mapHosts: { ...options.egress?.mapHosts },
      allowSockets: [...(options.egress?.allowSockets ?? [])],
      socketLimits: { ...options.egress?.socketLimits },
    },
    workerSource,
    runtime: toRuntimeSources(runtime),
  };
  // import() inside the sandbox would reach Node's loader (see the worker): user code has it
  // rewritten, and the runtime's own bundles must not contain it either (the libraries are
  // checked when they are first sent, see librarySourceOf).
  for (const [name, library] of Object.entries(settings.runtime.libraries)) {
    if (library.source !== undefined) checkNoImport(name, library.source, logger);
  }
  return settings;
}

function checkNoImport(name: string, source: string, logger: Logger): void {
  if (/\bimport\s*\(/.test(source)) logger.error({ library: name }, 'a sandbox runtime library contains import(); it will fail inside the sandbox');
}

/** A library (`name@version`) travels to the host only when a worker first needs it. */
const isLibraryKey = (key: string): boolean => key.lastIndexOf('@') > 0;

function toRuntimeSources(runtime: SandboxRuntimeSources | null): RuntimeSources {
  if (!runtime) return { prelude: null, libraries: {}, runtimeVersions: {}, subpaths: {} };
  const libraries: RuntimeSources['libraries'] = {};
  for (const [name, library] of Object.entries(runtime.libraries)) libraries[name] = isLibraryKey(name) ? { filename: library.filename } : { filename: library.filename, source: library.source };
  return { prelude: { filename: runtime.prelude.filename, source: runtime.prelude.source }, libraries, runtimeVersions: runtime.runtimeVersions, subpaths: { ...runtime.subpaths } };
}

/** The host's `source-request` answered from the loaded runtime (read from its cache on first use). */
export function librarySourceOf(runtime: SandboxRuntimeSources | null, logger: Logger): (name: string) => string | null {
  const checked = new Set<string>();
  return (name) => {
    const library = runtime !== null && Object.hasOwn(runtime.libraries, name) ? runtime.libraries[name] : undefined;
    if (library === undefined) return null;
    const source = library.source;
    if (!checked.has(name)) {
      checked.add(name);
      checkNoImport(name, source, logger);
    }
    return source;
  };
}
