/**
 * `codestep certs create <dir> [--host <name>]...`
 *
 * Makes the certificates the services present to each other (mutual TLS): a CA and one
 * certificate per service identity, in `<dir>` (what CODESTEP_TLS_DIR names), as embedded mode
 * does in its data directory. What is there already is kept; missing or soon-expiring service
 * certificates are made again. Exit 0 when done, 1 when it failed, 2 on a bad command line.
 */
import { ensureServiceCertificates } from '@codestep/platform';
import { parseCommandLine } from './command-line.ts';
import type { RunCommandIo } from './run.ts';

export const CERTS_USAGE = `Usage: codestep certs create <dir> [--host <name>]...

Makes (or completes) a certificates directory for CODESTEP_TLS_DIR: ca.crt and ca.key, and
<service>.crt and <service>.key for gateway, enrollment, log, executor and oauth-broker, each
naming spiffe://codestep/<service>. Keep ca.key away from the services: only this command needs it.

Options:
  --host <name>   A DNS name or IP address to add to every certificate (repeatable; default
                  localhost and 127.0.0.1). codestep's services check the spiffe identity, not
                  host names; other tools may want them.
`;

export async function certsCommand(argv: string[], io: RunCommandIo): Promise<number> {
  const parsed = parseCommandLine('certs', CERTS_USAGE, argv, { host: { type: 'string', multiple: true } }, io);
  if (typeof parsed === 'number') return parsed;
  const [sub, dir, ...extra] = parsed.positionals;
  if (sub !== 'create' || !dir || extra.length) {
    io.stderr.write(`codestep certs: expected "create <dir>"\n${CERTS_USAGE}`);
    return 2;
  }
  try {
    const made = await ensureServiceCertificates(dir, parsed.values.host ? { hosts: parsed.values.host } : {});
    io.stdout.write(made.length ? `made ${made.join(', ')} in ${dir}\n` : `${dir} is complete; nothing to make\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`codestep certs: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
