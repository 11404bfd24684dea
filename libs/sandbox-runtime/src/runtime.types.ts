/** A script for the sandbox core to compile with `new vm.Script(source, { filename, cachedData })`. */
export interface Script {
  filename: string;
  source: string;
}

/**
 * What the sandbox core evaluates inside each fresh context.
 *
 * - `prelude`: its completion value is `install(global, bridge)`; call it once per context before
 *   any user code, with the context's global and a bridge of primitive-only functions
 *   ({@link SandboxBridge}).
 * - `libraries`: each source evaluates to `(function (module, exports, require) { ... })`; call it
 *   with in-context `module`/`exports` and a `require` that resolves only the keys of this record
 *   (allow-listed packages and Node built-in shims) and throws `MODULE_NOT_ALLOWED` otherwise.
 *   Library bundles require each other by these names (`random-number-csprng` requires
 *   `bluebird` and `crypto`), so resolve them through the same per-context module cache.
 */
export interface SandboxRuntime {
  prelude: Script;
  libraries: Record<string, Script>;
  /** Hash of every build input; changes whenever any bundle may differ (use it to key code caches). */
  version: string;
}

/**
 * The bridge `install` receives. Its members take and return primitives only, never throw and
 * never return objects or promises; `install` keeps them in a closure, out of user code's reach.
 */
export interface SandboxBridge {
  /**
   * `requestJson` is `{ url, method, headers: [[k, v]...], bodyBase64: string | null, redirect }`;
   * `onDone` is later called once with the JSON of an `EgressResponse` from `@codestep/egress`:
   * `{ ok: true, status, statusText, url, redirected, headers, bodyBase64 }` or
   * `{ ok: false, error: { code, message } }`.
   */
  fetch(requestJson: string, onDone: (responseJson: string) => void): void;
  /** `n` cryptographically random bytes, base64. */
  randomBytes(n: number): string;
  /** Wall clock in ms (fractional allowed), for `performance.now()`. */
  now(): number;
}

/** Packages from the HubSpot custom-code allow-list that run in the sandbox. */
export const ALLOWED_LIBRARIES = ['@hubspot/api-client', 'axios', 'lodash', 'async', 'bluebird', 'random-number-csprng'] as const;

/** Node built-ins that resolve to in-context shims. `http`, `https`, `net`, `fs`, `child_process` and the rest do not. */
export const NODE_BUILTIN_SHIMS = ['buffer', 'crypto', 'events', 'querystring', 'url', 'util'] as const;
