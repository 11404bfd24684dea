/**
 * Mutual TLS between codestep's services: every server asks each caller for a certificate signed
 * by the deployment's CA and refuses the handshake without one; every client checks that the
 * server it reached holds the identity of the service it meant to call (not a host name: the
 * identity URI in the certificate), so one service's certificate cannot stand in for another's.
 */
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { identityUri, isServiceIdentity, TRUST_DOMAIN, type ServiceIdentity } from './access.policy.ts';

/** What one service presents and trusts: the CA's certificate, its own certificate and key (PEM). */
export interface TlsIdentity {
  ca: string;
  cert: string;
  key: string;
}

const SPIFFE = new RegExp(`^URI:spiffe://${TRUST_DOMAIN}/([a-z-]+)$`);

/**
 * The service identity a certificate names in its subject alternative names (`spiffe://codestep/<identity>`),
 * or undefined when it names none, or more than one.
 */
export function identityOfAltNames(subjectAltName: string | undefined): ServiceIdentity | undefined {
  const found = (subjectAltName ?? '')
    .split(', ')
    .map((entry) => SPIFFE.exec(entry)?.[1])
    .filter((id): id is string => id !== undefined);
  return found.length === 1 && isServiceIdentity(found[0]!) ? found[0] : undefined;
}

/** The identity of a PEM certificate (see {@link identityOfAltNames}). */
export function identityOfCertificate(pem: string): ServiceIdentity | undefined {
  return identityOfAltNames(new X509Certificate(pem).subjectAltName);
}

/** The identity of a caller from its verified certificate (the server's view of a call). */
export function identityOfPeer(peer: PeerCertificate | undefined): ServiceIdentity | undefined {
  return peer && 'subjectaltname' in peer ? identityOfAltNames(peer.subjectaltname) : undefined;
}

const CALLER = new RegExp(`^URI:spiffe://${TRUST_DOMAIN}/([a-z0-9][a-z0-9._/-]{0,200})$`);

/**
 * Who a caller of a public server is, from its verified certificate: the path of the one
 * `spiffe://codestep/<path>` URI it names (a service, `gateway`, or an outside client,
 * `client/<name>`), or undefined when it names none, or more than one.
 */
export function callerOfPeer(peer: PeerCertificate | undefined): string | undefined {
  const altNames = peer && 'subjectaltname' in peer ? peer.subjectaltname : '';
  const found = (altNames ?? '')
    .split(', ')
    .map((entry) => CALLER.exec(entry)?.[1])
    .filter((id): id is string => id !== undefined);
  return found.length === 1 ? found[0] : undefined;
}

/** Server credentials: presents `tls.cert`, requires a client certificate signed by `tls.ca`. */
export function serverCredentials(tls: TlsIdentity): grpc.ServerCredentials {
  return grpc.ServerCredentials.createSsl(Buffer.from(tls.ca), [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], true);
}

/** Client credentials: presents `tls.cert`, accepts only a server whose certificate names `server`. */
export function clientCredentials(tls: TlsIdentity, server: ServiceIdentity): grpc.ChannelCredentials {
  const expected = identityUri(server);
  return grpc.credentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert), {
    checkServerIdentity: (_host, cert) => (identityOfPeer(cert) === server ? undefined : new Error(`the server is not ${expected}: its certificate names ${cert.subjectaltname || 'no identity'}`)),
  });
}

/** Channel options of a client of `server`: the TLS server name is the identity, never an IP address. */
export function clientChannelOptions(server: ServiceIdentity): grpc.ChannelOptions {
  return { 'grpc.ssl_target_name_override': `${server}.${TRUST_DOMAIN}` };
}
