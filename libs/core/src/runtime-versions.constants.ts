/**
 * The runtime versions an action can choose, as HubSpot users choose a Node version for a
 * custom code action: each names a set of library versions (the sets themselves are in
 * `@codestep/sandbox-runtime`, `RUNTIME_LIBRARY_SETS`). Here because the workflow validation,
 * the gateway, the executor, the sandbox and the CLI all need the names.
 */

/** The runtime versions, oldest first. */
export const RUNTIME_VERSIONS = ['node20', 'node24'] as const;

export type RuntimeVersion = (typeof RUNTIME_VERSIONS)[number];

/** Other names accepted for a runtime version. */
export const RUNTIME_VERSION_ALIASES: Readonly<Record<string, RuntimeVersion>> = { latest: 'node24' };

/** What an action saved without a runtime version gets: HubSpot's documented set (Node 20). */
export const DEFAULT_RUNTIME_VERSION: RuntimeVersion = 'node20';

/**
 * What an action saved before runtime versions existed runs (no version in its saved event):
 * the libraries every action had then (today's versions), so replaying old events does not
 * change what their workflows run.
 */
export const LEGACY_RUNTIME_VERSION: RuntimeVersion = 'node24';

/** Every value a request may send, aliases included, for messages and schemas. */
export const ACCEPTED_RUNTIME_VERSIONS: readonly string[] = [...RUNTIME_VERSIONS, ...Object.keys(RUNTIME_VERSION_ALIASES)];

/** The runtime version a name stands for (aliases resolved), or undefined for an unknown name. */
export function resolveRuntimeVersion(name: string): RuntimeVersion | undefined {
  if ((RUNTIME_VERSIONS as readonly string[]).includes(name)) return name as RuntimeVersion;
  return Object.hasOwn(RUNTIME_VERSION_ALIASES, name) ? RUNTIME_VERSION_ALIASES[name] : undefined;
}

/** The message for a runtime version that does not exist; `field` names where it was sent. */
export function runtimeVersionProblem(field: string, given: unknown): string {
  return `${field}: ${JSON.stringify(given)} is not a runtime version; use one of ${ACCEPTED_RUNTIME_VERSIONS.join(', ')} (default ${DEFAULT_RUNTIME_VERSION}, HubSpot's documented Node 20 set)`;
}
