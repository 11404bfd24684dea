import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { issueCertificate, issueClientCertificate } from './certificate.authority.ts';
import { callerOfPeer, identityOfCertificate } from './mtls.credentials.ts';
import { testPki } from './testing/index.ts';

/** The peer certificate a server sees, as far as `callerOfPeer` reads it. */
const peerOf = (pem: string) => ({ subjectaltname: new X509Certificate(pem).subjectAltName }) as never;

describe("public API callers' identities", () => {
  it('names an outside client spiffe://codestep/client/<name>, which is no internal service identity', async () => {
    const pki = await testPki();
    const billing = await issueClientCertificate(pki.ca, 'billing');
    assert.equal(callerOfPeer(peerOf(billing.cert)), 'client/billing');
    assert.equal(identityOfCertificate(billing.cert), undefined, 'the internal access policy does not take it for a service');
    assert.equal(callerOfPeer(peerOf(pki.tls('gateway').cert)), 'gateway');
  });

  it('refuses a client name outside 1-64 of a-z, 0-9, ".", "_", "-"', async () => {
    const pki = await testPki();
    await assert.rejects(issueClientCertificate(pki.ca, 'Billing Team'), /client name/);
    await assert.rejects(issueClientCertificate(pki.ca, ''), /client name/);
  });

  it('finds no caller in a certificate naming no codestep identity, or two of them', async () => {
    const pki = await testPki();
    assert.equal(callerOfPeer(peerOf(pki.anonymous.cert)), undefined);
    const two = await issueCertificate(pki.ca, { commonName: 'two', uris: ['spiffe://codestep/client/a', 'spiffe://codestep/client/b'] });
    assert.equal(callerOfPeer(peerOf(two.cert)), undefined);
    const other = await issueCertificate(pki.ca, { commonName: 'other', uris: ['spiffe://elsewhere/client/a'] });
    assert.equal(callerOfPeer(peerOf(other.cert)), undefined);
    assert.equal(callerOfPeer(undefined), undefined);
  });
});
