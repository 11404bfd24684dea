/**
 * A small certificate authority for codestep's service identities: embedded mode makes one in
 * its data directory on first start, `codestep certs create` makes one for an operator, and the
 * tests make one per process. Each service certificate names its identity as a SPIFFE URI
 * (`spiffe://codestep/<identity>`), which servers authorise on and clients expect of the server
 * they dial.
 *
 * Node has no X.509 writer, so node-forge (one dependency-free package, no native code, no
 * global polyfills) builds the certificates; keys are made by `node:crypto` (RSA 2048: the key
 * type forge can put in a certificate) and the signature is computed by `node:crypto` too,
 * fed the exact bytes forge asks to sign, so forge's slower pure-JS RSA is never used.
 */
import { generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { TRUST_DOMAIN, identityUri, type ServiceIdentity } from './access.policy.ts';

/** A certificate and its private key, PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

const DAY_MS = 86_400_000;
const generate = promisify(generateKeyPair);

async function rsaKeys(): Promise<{ privatePem: string; publicKey: forge.pki.PublicKey }> {
  const { privateKey, publicKey } = await generate('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  return { privatePem: privateKey, publicKey: forge.pki.publicKeyFromPem(publicKey) };
}

/** Signs `cert` with `signerPem` through node:crypto (SHA-256 with RSA), in place of forge's own RSA. */
function signNatively(cert: forge.pki.Certificate, signerPem: string): void {
  const tbs: string[] = [];
  const digest = { algorithm: 'sha256', update: (bytes: string) => (tbs.push(bytes), digest) };
  const signer = { sign: () => sign('sha256', Buffer.from(tbs.join(''), 'binary'), signerPem).toString('binary') };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, digest as unknown as forge.md.MessageDigest);
}

function skeleton(publicKey: forge.pki.PublicKey, validDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // Positive, 128 random bits.
  cert.serialNumber = '7' + randomBytes(16).toString('hex').slice(1);
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + validDays * DAY_MS);
  return cert;
}

/** A new self-signed CA (10 years unless told). */
export async function createCertificateAuthority(options: { name?: string; validDays?: number } = {}): Promise<PemPair> {
  const keys = await rsaKeys();
  const cert = skeleton(keys.publicKey, options.validDays ?? 3650);
  const subject = [{ name: 'commonName', value: options.name ?? 'codestep internal CA' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signNatively(cert, keys.privatePem);
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

/**
 * A certificate for one service identity, signed by `ca` (1 year unless told), usable as TLS
 * server and client. `hosts` (DNS names or IP addresses) are added for tools that check host
 * names; codestep's clients check the identity URI instead.
 */
export function issueServiceCertificate(ca: PemPair, identity: ServiceIdentity, options: { hosts?: string[]; validDays?: number } = {}): Promise<PemPair> {
  return issueCertificate(ca, { commonName: identity, uris: [identityUri(identity)], ...options });
}

/**
 * A certificate for an outside client of the public gRPC API, signed by `ca` (1 year unless told):
 * it names `spiffe://codestep/client/<name>`, and serves as a TLS client only in practice.
 * @throws Error (rejects) when the name is not 1-64 of a-z, 0-9, `.`, `_` and `-`.
 */
export async function issueClientCertificate(ca: PemPair, name: string, options: { validDays?: number } = {}): Promise<PemPair> {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) throw new Error(`a client name is 1-64 of a-z, 0-9, ".", "_" and "-", starting with a letter or digit; got ${JSON.stringify(name.slice(0, 80))}`);
  return issueCertificate(ca, { commonName: `client/${name}`, uris: [`spiffe://${TRUST_DOMAIN}/client/${name}`], ...options });
}

/** A leaf certificate signed by `ca` with the given name, URIs and hosts (tests use it for certificates naming no identity). */
export async function issueCertificate(ca: PemPair, options: { commonName: string; uris: string[]; hosts?: string[]; validDays?: number }): Promise<PemPair> {
  const keys = await rsaKeys();
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const cert = skeleton(keys.publicKey, options.validDays ?? 365);
  cert.setSubject([
    { name: 'commonName', value: options.commonName },
    { name: 'organizationName', value: 'codestep' },
  ]);
  cert.setIssuer(caCert.subject.attributes);
  const hosts = options.hosts ?? ['localhost', '127.0.0.1'];
  const altNames = [...options.uris.map((value) => ({ type: 6, value })), ...hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 7, ip: h } : { type: 2, value: h }))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  signNatively(cert, ca.key);
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

/** When a PEM certificate stops being valid (UNIX ms). */
export function certificateExpiry(pem: string): number {
  return Date.parse(new X509Certificate(pem).validTo);
}
