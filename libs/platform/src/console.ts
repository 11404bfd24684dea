/**
 * Where the gateway finds the web console's files, and building them on first start when they are
 * missing (so `npm start` and `node apps/gateway/src/main.ts` need no step by hand). An operator's
 * CODESTEP_CONSOLE_DIR is used as given, never built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@codestep/core';
import type { PlatformConfig } from './platform.config.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILD_SCRIPT = join(repoRoot, 'apps/console/src/build.ts');
export const DEFAULT_CONSOLE_DIR = join(repoRoot, 'apps/console/dist');

/** The console's directory, built first if it is the default one and has no index.html; undefined when it cannot be built (the API works without it). */
export function ensureConsole(config: PlatformConfig, logger: Logger): string | undefined {
  if (config.consoleDir) return config.consoleDir;
  if (existsSync(join(DEFAULT_CONSOLE_DIR, 'index.html'))) return DEFAULT_CONSOLE_DIR;
  if (!existsSync(BUILD_SCRIPT)) return undefined;
  try {
    execFileSync(process.execPath, [BUILD_SCRIPT, '--if-missing'], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
    return DEFAULT_CONSOLE_DIR;
  } catch (error) {
    logger.warn({ error: error instanceof Error ? error.message.slice(0, 500) : String(error) }, 'the web console could not be built; the HTTP API works without it');
    return DEFAULT_CONSOLE_DIR;
  }
}
