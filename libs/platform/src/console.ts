/**
 * Where the gateway finds the web console's files, and building them at start when they are
 * missing or older than their sources (so `npm start` and `node apps/gateway/src/main.ts` need no
 * step by hand, and a checkout updated by a pull never serves the console it had before). An
 * operator's CODESTEP_CONSOLE_DIR is used as given, never built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@codestep/core';
import type { PlatformConfig } from './platform.config.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILD_SCRIPT = join(repoRoot, 'apps/console/src/build.ts');
export const DEFAULT_CONSOLE_DIR = join(repoRoot, 'apps/console/dist');
/** What the build reads: the web app's sources and the build script itself. */
const CONSOLE_SOURCES = [join(repoRoot, 'apps/console/src/web'), BUILD_SCRIPT];

/** The newest modification time (ms) of a file, or of the files under a directory (0 when none). */
function newestMtime(path: string): number {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a file removed changes its directory's time
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Whether the console in `dir` must be built: it has no index.html, or a source is newer than it
 * (an mtime check over a few dozen files: a pull, a checkout or an edit after the last build).
 */
export function consoleStale(dir: string, sources: readonly string[] = CONSOLE_SOURCES): boolean {
  const built = statSync(join(dir, 'index.html'), { throwIfNoEntry: false });
  if (!built) return true;
  return sources.some((s) => newestMtime(s) > built.mtimeMs);
}

/**
 * The console's directory, built first if it is the default one and missing or stale; undefined
 * when it is missing and cannot be built (the API works without it). A stale build that cannot be
 * rebuilt is served as it is, with a warning.
 */
export function ensureConsole(config: PlatformConfig, logger: Logger): string | undefined {
  if (config.consoleDir) return config.consoleDir;
  if (!consoleStale(DEFAULT_CONSOLE_DIR)) return DEFAULT_CONSOLE_DIR;
  if (!existsSync(BUILD_SCRIPT)) return existsSync(join(DEFAULT_CONSOLE_DIR, 'index.html')) ? DEFAULT_CONSOLE_DIR : undefined;
  try {
    execFileSync(process.execPath, [BUILD_SCRIPT], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
    return DEFAULT_CONSOLE_DIR;
  } catch (error) {
    logger.warn({ error: error instanceof Error ? error.message.slice(0, 500) : String(error) }, 'the web console could not be built; the HTTP API works without it');
    return DEFAULT_CONSOLE_DIR;
  }
}
