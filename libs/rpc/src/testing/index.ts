/**
 * Certificates for tests: one CA and a certificate per service identity, made once per test
 * process (key generation is the slow part), plus the certificates an intruder might hold.
 */
import { SERVICE_IDENTITIES, type ServiceIdentity } from '../access.policy.ts';
import { createCertificateAuthority, issueCertificate, issueServiceCertificate, type PemPair } from '../certificate.authority.ts';
import type { TlsIdentity } from '../mtls.credentials.ts';

export interface TestPki {
  ca: PemPair;
  /** The TLS identity of a service, under the test CA. */
  tls(identity: ServiceIdentity): TlsIdentity;
  /** Signed by the test CA but naming no service identity. */
  anonymous: TlsIdentity;
  /** A gateway certificate from another CA (trusting the test CA). */
  foreign: TlsIdentity;
}

let made: Promise<TestPki> | undefined;

async function make(): Promise<TestPki> {
  const ca = await createCertificateAuthority({ name: 'codestep test CA' });
  const other = await createCertificateAuthority({ name: 'another CA' });
  const pairs = await Promise.all(SERVICE_IDENTITIES.map((id) => issueServiceCertificate(ca, id)));
  const byId = new Map(SERVICE_IDENTITIES.map((id, i) => [id, pairs[i]!]));
  const anonymous = await issueCertificate(ca, { commonName: 'nobody', uris: [] });
  const foreign = await issueServiceCertificate(other, 'gateway');
  return {
    ca,
    tls: (id) => ({ ca: ca.cert, ...byId.get(id)! }),
    anonymous: { ca: ca.cert, ...anonymous },
    foreign: { ca: ca.cert, ...foreign },
  };
}

/** The test process's certificates (made on first use). */
export function testPki(): Promise<TestPki> {
  return (made ??= make());
}
