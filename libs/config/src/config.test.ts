import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './config.ts';

const schema = {
  port: { kind: 'int', env: 'PORT', doc: 'HTTP port', default: 8080, min: 0, max: 65535 },
  brokers: { kind: 'list', env: 'KAFKA_BROKERS', doc: 'Kafka brokers, host:port,...', optional: true },
  hosts: { kind: 'map', env: 'MAP_HOSTS', doc: 'host=url pairs', default: {} },
  key: { kind: 'string', env: 'KEY', doc: 'the master key' },
} as const;

describe('config', () => {
  it('applies defaults and parses typed values', () => {
    const c = parseConfig(schema, { KEY: 'k', KAFKA_BROKERS: 'a:1, b:2', MAP_HOSTS: 'api.hubapi.com=http://127.0.0.1:1' });
    assert.equal(c.port, 8080);
    assert.deepEqual(c.brokers, ['a:1', 'b:2']);
    assert.deepEqual(c.hosts, { 'api.hubapi.com': 'http://127.0.0.1:1' });
  });

  it('reports every problem at once, each naming the variable and what it means', () => {
    assert.throws(
      () => parseConfig(schema, { PORT: 'eighty', MAP_HOSTS: 'nope' }),
      (e: Error) => {
        assert.match(e.message, /PORT="eighty": must be a whole number \(HTTP port\)/);
        assert.match(e.message, /MAP_HOSTS="nope": "nope" is not KEY=VALUE/);
        assert.match(e.message, /KEY is required: the master key/);
        return true;
      },
    );
  });
});
