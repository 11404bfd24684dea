/**
 * The services' TLS material. A certificates directory holds the internal CA (`ca.crt`, and
 * `ca.key` when codestep made it) and one certificate and key per service identity
 * (`<identity>.crt`, `<identity>.key`). Embedded mode makes it in its data directory on first
 * start (`ensureServiceCertificates`), as `codestep certs create <dir>` does for an operator and
 * the distributed tests; a distributed app reads its own identity's files from
 * `CODESTEP_TLS_DIR`, or the three files named by `CODESTEP_TLS_CA_FILE`/`CERT_FILE`/`KEY_FILE`
 * (an operator's own PKI), and refuses to start without them.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodestepError } from '@codestep/core';
import {
  SERVICE_IDENTITIES,
  certificateExpiry,
  createCertificateAuthority,
  identityOfCertificate,
  issueClientCertificate,
  issueServiceCertificate,
  type PemPair,
  type ServiceIdentity,
  type TlsIdentity,
} from '@codestep/rpc';
import type { PlatformConfig } from './platform.config.ts';

/** A service certificate is made again when it expires within this long (if the CA's key is here). */
const RENEW_BEFORE_MS = 30 * 86_400_000;

const file = (dir: string, name: string) => join(dir, name);

/** Writes a file whole (temp, then rename), private to its owner. */
function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/**
 * Makes what is missing in a certificates directory: the CA (when there is no `ca.crt`), and a
 * certificate per service identity that is absent or expires within 30 days. Returns what it made.
 * @throws CodestepError `INVALID_CONFIG` when a certificate must be made but the CA's key is not there.
 */
export async function ensureServiceCertificates(dir: string, options: { hosts?: string[] } = {}): Promise<string[]> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  if (!existsSync(file(dir, 'ca.crt'))) {
    const ca = await createCertificateAuthority();
    writePrivate(file(dir, 'ca.key'), ca.key);
    writePrivate(file(dir, 'ca.crt'), ca.cert);
    made.push('ca');
  }
  const due = SERVICE_IDENTITIES.filter((id) => !existsSync(file(dir, `${id}.crt`)) || certificateExpiry(readFileSync(file(dir, `${id}.crt`), 'utf8')) - Date.now() < RENEW_BEFORE_MS);
  if (!due.length) return made;
  if (!existsSync(file(dir, 'ca.key'))) {
    throw new CodestepError('INVALID_CONFIG', `${dir} has no ca.key to sign certificates for ${due.join(', ')} with: add their certificates, or use a directory codestep made`);
  }
  const ca: PemPair = { cert: readFileSync(file(dir, 'ca.crt'), 'utf8'), key: readFileSync(file(dir, 'ca.key'), 'utf8') };
  const pairs = await Promise.all(due.map((id) => issueServiceCertificate(ca, id, options.hosts ? { hosts: options.hosts } : {})));
  due.forEach((id, i) => {
    writePrivate(file(dir, `${id}.key`), pairs[i]!.key);
    writePrivate(file(dir, `${id}.crt`), pairs[i]!.cert);
  });
  return [...made, ...due];
}

function read(path: string, variable: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CodestepError('INVALID_CONFIG', `${variable}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** Checks that a certificate names the identity of the service that will present it. */
function checked(tls: TlsIdentity, identity: ServiceIdentity, source: string): TlsIdentity {
  const named = identityOfCertificate(tls.cert);
  if (named !== identity) {
    throw new CodestepError(
      'INVALID_CONFIG',
      `${source} is a certificate for ${named ?? 'no codestep service'}, but this is the ${identity} service: give it a certificate naming spiffe://codestep/${identity}`,
    );
  }
  return tls;
}

/** One identity's TLS material from a certificates directory. */
export function readServiceTls(dir: string, identity: ServiceIdentity, variable = 'CODESTEP_TLS_DIR'): TlsIdentity {
  const cert = file(dir, `${identity}.crt`);
  return checked({ ca: read(file(dir, 'ca.crt'), variable), cert: read(cert, variable), key: read(file(dir, `${identity}.key`), variable) }, identity, cert);
}

/**
 * The TLS material of a distributed app's service, from its configuration.
 * @throws CodestepError `INVALID_CONFIG` naming the variables when none is set, or when the certificate is another service's.
 */
export function serviceTlsOf(config: PlatformConfig, identity: ServiceIdentity): TlsIdentity {
  if (config.tlsCaFile && config.tlsCertFile && config.tlsKeyFile) {
    const tls = { ca: read(config.tlsCaFile, 'CODESTEP_TLS_CA_FILE'), cert: read(config.tlsCertFile, 'CODESTEP_TLS_CERT_FILE'), key: read(config.tlsKeyFile, 'CODESTEP_TLS_KEY_FILE') };
    return checked(tls, identity, `CODESTEP_TLS_CERT_FILE (${config.tlsCertFile})`);
  }
  if (config.tlsDir) return readServiceTls(config.tlsDir, identity);
  throw new CodestepError(
    'INVALID_CONFIG',
    `the ${identity} service talks to the others over mutual TLS and has no certificate: set CODESTEP_TLS_DIR to a directory made by \`codestep certs create <dir>\`, or CODESTEP_TLS_CA_FILE, CODESTEP_TLS_CERT_FILE and CODESTEP_TLS_KEY_FILE`,
  );
}

/**
 * A certificate for an outside client of the public gRPC API in a certificates directory
 * (`client-<name>.crt`, `client-<name>.key`, naming `spiffe://codestep/client/<name>`), made when
 * absent or expiring within 30 days. Returns the files' paths (and the CA's, to trust the server).
 * @throws CodestepError `INVALID_CONFIG` when one must be made but the CA's key is not there; Error on a bad name.
 */
export async function ensureClientCertificate(dir: string, name: string): Promise<{ ca: string; cert: string; key: string; made: boolean }> {
  const paths = { ca: file(dir, 'ca.crt'), cert: file(dir, `client-${name}.crt`), key: file(dir, `client-${name}.key`) };
  if (existsSync(paths.cert) && existsSync(paths.key) && certificateExpiry(readFileSync(paths.cert, 'utf8')) - Date.now() >= RENEW_BEFORE_MS) return { ...paths, made: false };
  if (!existsSync(file(dir, 'ca.key'))) throw new CodestepError('INVALID_CONFIG', `${dir} has no ca.key to sign a certificate for client ${name} with: use a directory codestep made`);
  const ca: PemPair = { cert: readFileSync(paths.ca, 'utf8'), key: readFileSync(file(dir, 'ca.key'), 'utf8') };
  const pair = await issueClientCertificate(ca, name);
  writePrivate(paths.key, pair.key);
  writePrivate(paths.cert, pair.cert);
  return { ...paths, made: true };
}
