/**
 * `codestep certs create <dir> [--host <name>]...`
 * `codestep certs client <dir> <name>`
 *
 * Makes the certificates the services present to each other (mutual TLS): a CA and one
 * certificate per service identity, in `<dir>` (what CODESTEP_TLS_DIR names), as embedded mode
 * does in its data directory. What is there already is kept; missing or soon-expiring service
 * certificates are made again. `client` makes a certificate for an outside caller of the public
 * gRPC API (docs/grpc.md), signed by the same CA. Exit 0 when done, 1 when it failed, 2 on a bad command line.
 */
import { ensureClientCertificate, ensureServiceCertificates } from '@codestep/platform';
import { parseCommandLine } from './command-line.ts';
import type { RunCommandIo } from './run.ts';

export const CERTS_USAGE = `Usage: codestep certs create <dir> [--host <name>]...
       codestep certs client <dir> <name>

Makes (or completes) a certificates directory for CODESTEP_TLS_DIR: ca.crt and ca.key, and
<service>.crt and <service>.key for gateway, enrollment, log, executor and oauth-broker, each
naming spiffe://codestep/<service>. Keep ca.key away from the services: only this command needs it.

client: a certificate for an outside caller of the public gRPC API (docs/grpc.md), signed by the
CA of <dir>: client-<name>.crt and client-<name>.key, naming spiffe://codestep/client/<name>
(<name>: 1-64 of a-z, 0-9, ".", "_", "-"). Give the caller these two files and ca.crt.

Options:
  --host <name>   A DNS name or IP address to add to every certificate (repeatable; default
                  localhost and 127.0.0.1). codestep's services check the spiffe identity, not
                  host names; other tools may want them.
`;

export async function certsCommand(argv: string[], io: RunCommandIo): Promise<number> {
  const parsed = parseCommandLine('certs', CERTS_USAGE, argv, { host: { type: 'string', multiple: true } }, io);
  if (typeof parsed === 'number') return parsed;
  const [sub, dir, ...extra] = parsed.positionals;
  if (sub === 'client' && dir && extra.length === 1) return clientCertificate(dir, extra[0]!, io);
  if (sub !== 'create' || !dir || extra.length) {
    io.stderr.write(`codestep certs: expected "create <dir>" or "client <dir> <name>"\n${CERTS_USAGE}`);
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

async function clientCertificate(dir: string, name: string, io: RunCommandIo): Promise<number> {
  try {
    const out = await ensureClientCertificate(dir, name);
    io.stdout.write(`${out.made ? 'made' : 'kept'} ${out.cert} and ${out.key}; the caller trusts ${out.ca}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`codestep certs: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
