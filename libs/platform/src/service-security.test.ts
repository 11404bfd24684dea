/**
 * The platform's side of service-to-service security: the certificates directory embedded mode
 * makes (and an operator makes with `codestep certs create`), what a distributed app accepts as its
 * certificate, the grant key, and the Kafka and MongoDB TLS settings.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SERVICE_IDENTITIES, identityOfCertificate } from '@codestep/rpc';
import { kafkaSecurityOf, mongoTlsOf } from './adapters.ts';
import { grantKeyOf } from './grant.key.ts';
import { loadPlatformConfig } from './platform.config.ts';
import { ensureServiceCertificates, readServiceTls, serviceTlsOf } from './service.certificates.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'codestep-tls-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('service certificates', () => {
  it('are made once in a directory: a CA and one certificate per identity, private files, kept on the next start', async () => {
    const dir = tempDir();
    assert.deepEqual(await ensureServiceCertificates(dir), ['ca', ...SERVICE_IDENTITIES]);
    for (const id of SERVICE_IDENTITIES) {
      const tls = readServiceTls(dir, id);
      assert.equal(identityOfCertificate(tls.cert), id);
      assert.equal(statSync(join(dir, `${id}.key`)).mode & 0o077, 0, `${id}.key is private`);
    }
    const before = readFileSync(join(dir, 'gateway.crt'), 'utf8');
    assert.deepEqual(await ensureServiceCertificates(dir), []);
    assert.equal(readFileSync(join(dir, 'gateway.crt'), 'utf8'), before);
  });

  it("a distributed app refuses to start without a certificate, or with another service's, naming the variables", async () => {
    assert.throws(() => serviceTlsOf(loadPlatformConfig({}), 'executor'), /CODESTEP_TLS_DIR.*codestep certs create.*CODESTEP_TLS_CA_FILE, CODESTEP_TLS_CERT_FILE and CODESTEP_TLS_KEY_FILE/);
    const dir = tempDir();
    await ensureServiceCertificates(dir);
    const files = { CODESTEP_TLS_CA_FILE: join(dir, 'ca.crt'), CODESTEP_TLS_CERT_FILE: join(dir, 'gateway.crt'), CODESTEP_TLS_KEY_FILE: join(dir, 'gateway.key') };
    assert.equal(identityOfCertificate(serviceTlsOf(loadPlatformConfig(files), 'gateway').cert), 'gateway');
    assert.throws(() => serviceTlsOf(loadPlatformConfig(files), 'executor'), /a certificate for gateway, but this is the executor service/);
    assert.equal(identityOfCertificate(serviceTlsOf(loadPlatformConfig({ CODESTEP_TLS_DIR: dir }), 'log').cert), 'log');
    assert.throws(() => loadPlatformConfig({ CODESTEP_TLS_CERT_FILE: files.CODESTEP_TLS_CERT_FILE }), /go together/);
  });

  it('the grant key comes from CODESTEP_GRANT_KEY, else from the data directory, the same on every read', () => {
    const dataDir = tempDir();
    const config = loadPlatformConfig({ CODESTEP_DATA_DIR: dataDir });
    assert.deepEqual(grantKeyOf(config), grantKeyOf(config));
    assert.equal(statSync(join(dataDir, 'grant.key')).mode & 0o077, 0);
    const given = Buffer.alloc(32, 9).toString('base64');
    assert.equal(grantKeyOf(loadPlatformConfig({ CODESTEP_GRANT_KEY: given })).toString('base64'), given);
    assert.throws(() => grantKeyOf(loadPlatformConfig({ CODESTEP_GRANT_KEY: 'nope' })), /CODESTEP_GRANT_KEY must be the base64 of 32 random bytes/);
  });
});

describe('Kafka and MongoDB connection security', () => {
  it('is off unless configured, and maps TLS files and SASL credentials to the clients', () => {
    assert.deepEqual(kafkaSecurityOf(loadPlatformConfig({})), {});
    assert.deepEqual(mongoTlsOf(loadPlatformConfig({})), {});
    const ca = join(tempDir(), 'ca.pem');
    writeFileSync(ca, 'CA PEM');
    const kafka = kafkaSecurityOf(loadPlatformConfig({ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: ca, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }));
    assert.deepEqual(kafka, { ssl: { ca: 'CA PEM' }, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    assert.deepEqual(kafkaSecurityOf(loadPlatformConfig({ KAFKA_SSL: 'true' })), { ssl: true });
    assert.deepEqual(mongoTlsOf(loadPlatformConfig({ MONGODB_TLS: 'true', MONGODB_TLS_CA_FILE: ca })), { tls: true, tlsCAFile: ca });
    assert.throws(() => loadPlatformConfig({ KAFKA_SASL_MECHANISM: 'plain' }), /KAFKA_SASL_MECHANISM needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/);
  });
});
