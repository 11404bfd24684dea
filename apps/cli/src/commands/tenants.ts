/**
 * `codestep tenants create <name> [--default-timeout-ms N] [--max-timeout-ms N]
 *   [--default-memory-mb N] [--max-memory-mb N] [--json]`
 *
 * Creates a tenant and prints its API key once. Reads the same configuration as the platform
 * (CODESTEP_DATA_DIR or MONGODB_URI) and may run while it runs. Exit 0 when created, 1 when the
 * store failed, 2 when the command line or a limit is wrong (nothing created).
 */
import { isCodestepError } from '@codestep/core';
import { createTenant, loadPlatformConfig } from '@codestep/platform';
import { parseCommandLine } from './command-line.ts';
import type { RunCommandIo } from './run.ts';

export const TENANTS_USAGE = `Usage: codestep tenants create <name> [options]

Creates a tenant and prints its API key (shown once).

Options (limits within the operator's bounds; left out: the operator's values):
  --default-timeout-ms <ms>   Wall time of the tenant's actions that set none
  --max-timeout-ms <ms>       The most any of the tenant's actions may ask for
  --default-memory-mb <mb>    Memory of the tenant's actions that set none
  --max-memory-mb <mb>        The most any of the tenant's actions may ask for
  --json                      Print {tenantId, apiKey, limits}
`;

const FLAGS = { 'default-timeout-ms': 'defaultTimeoutMs', 'max-timeout-ms': 'maxTimeoutMs', 'default-memory-mb': 'defaultMemoryMb', 'max-memory-mb': 'maxMemoryMb' } as const;

export async function tenantsCommand(argv: string[], env: Record<string, string | undefined>, io: RunCommandIo): Promise<number> {
  const parsed = parseCommandLine(
    'tenants',
    TENANTS_USAGE,
    argv,
    {
      'default-timeout-ms': { type: 'string' },
      'max-timeout-ms': { type: 'string' },
      'default-memory-mb': { type: 'string' },
      'max-memory-mb': { type: 'string' },
      json: { type: 'boolean' },
    },
    io,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, name, ...extra] = positionals;
  if (sub !== 'create' || !name?.trim() || extra.length) {
    io.stderr.write(`codestep tenants: expected "create <name>"\n${TENANTS_USAGE}`);
    return 2;
  }
  const limits: Record<string, unknown> = {};
  for (const [flag, field] of Object.entries(FLAGS) as Array<[keyof typeof FLAGS, string]>) {
    const v = values[flag];
    if (typeof v !== 'string') continue;
    if (!/^\d+$/.test(v)) {
      io.stderr.write(`codestep tenants: --${flag} must be a whole number, got "${v}"\n`);
      return 2;
    }
    limits[field] = Number(v);
  }
  try {
    const created = await createTenant(loadPlatformConfig(env), name.trim(), limits);
    if (values.json) io.stdout.write(JSON.stringify(created) + '\n');
    else io.stdout.write(`created tenant ${created.tenantId}\nAPI key (shown once, keep it): ${created.apiKey}\n`);
    return 0;
  } catch (error) {
    const usage = isCodestepError(error) && (error.code === 'INVALID_ARGUMENT' || error.code === 'INVALID_CONFIG');
    io.stderr.write(`codestep tenants: ${error instanceof Error ? error.message : String(error)}\n`);
    return usage ? 2 : 1;
  }
}
