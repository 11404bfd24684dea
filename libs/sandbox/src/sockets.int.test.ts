/**
 * The sandbox's `net` against real database servers on loopback, allow-listed by the operator
 * (`allowSockets`): Redis and MariaDB from Debian's packages, MongoDB-wire (FerretDB), all
 * started by `infra/local/up.sh` (REDIS_URL, MYSQL_URL, MONGODB_URI).
 *
 * Two kinds of client run inside the sandbox: our own protocol code (RESP, the MySQL
 * handshake with mysql_native_password, an OP_MSG with hand-made BSON), each cross-checked
 * from the host with the real client library; and the seed libraries the runtime ships, as an
 * action requires them: `redis` 4 and `mongoose` 6 on `node20`, `redis` 5 and `mongoose` 9 on
 * `node24`, `mysql` 2.18 on both.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { createRequire } from 'node:module';
import { createClient } from 'redis';
import { createSandbox } from './sandbox.ts';
import type { ExecutionResult, SandboxHandle } from './sandbox.types.ts';
import { hubspotRequest } from './testing/sandbox-test-kit.ts';

function required(name: string): URL {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: start the servers with eval "$(bash infra/local/up.sh)" (Redis and MariaDB need tools/scripts/ensure-packages.sh)`);
  return new URL(value);
}

/** The `mysql` package (no type declarations installed): the part the cross-checks use. */
interface MysqlConnection {
  query(sql: string, values: unknown[], done: (error: Error | null, rows: unknown) => void): void;
  end(): void;
}
const mysql = createRequire(import.meta.url)('mysql') as { createConnection(options: Record<string, unknown>): MysqlConnection };

const redisUrl = required('REDIS_URL');
const mysqlUrl = required('MYSQL_URL');
const mongoUrl = required('MONGODB_URI');
const run = `${process.pid}_${randomBytes(3).toString('hex')}`;
let sandbox: SandboxHandle;

before(async () => {
  sandbox = await createSandbox({
    poolSize: 1,
    egress: { allowHosts: [], mapHosts: {}, allowSockets: [redisUrl.host, mysqlUrl.host, mongoUrl.host] },
  });
});

after(async () => {
  await sandbox.close();
});

const execute = (code: string, memoryMb = 128, runtimeVersion = 'node20'): Promise<ExecutionResult> =>
  sandbox.execute(hubspotRequest(code, { limits: { timeoutMs: 20_000, memoryMb }, runtimeVersion }));

function succeeded(result: ExecutionResult): Record<string, unknown> {
  assert.equal(result.status, 'succeeded', `${JSON.stringify(result.error)}\n${result.logs.map((l) => l.message).join('\n')}`);
  return result.outputFields;
}

async function withMysql<T>(fn: (query: (sql: string, values?: unknown[]) => Promise<unknown>) => Promise<T>): Promise<T> {
  const connection = mysql.createConnection({ host: mysqlUrl.hostname, port: Number(mysqlUrl.port), user: 'codestep', password: 'codestep', database: 'codestep' });
  const query = (sql: string, values: unknown[] = []) => new Promise<unknown>((resolve, reject) => connection.query(sql, values, (error, rows) => (error ? reject(error) : resolve(rows))));
  try {
    return await fn(query);
  } finally {
    connection.end();
  }
}

describe('Redis', () => {
  it('RESP from the sandbox: pipelined commands; the real redis client reads what it wrote and vice versa', async () => {
    const host = createClient({ url: redisUrl.href });
    await host.connect();
    try {
      await host.set(`sockets:${run}:from-host`, 'hello from the host');
      const out = succeeded(
        await execute(`
        const net = require('net');
        const command = (...args) => '*' + args.length + '\\r\\n' + args.map((a) => '$' + Buffer.byteLength(String(a)) + '\\r\\n' + a + '\\r\\n').join('');
        exports.main = async () => {
          const socket = net.connect(${redisUrl.port}, '${redisUrl.hostname}');
          socket.setEncoding('utf8');
          let text = '';
          const replies = new Promise((resolve, reject) => {
            socket.on('data', (d) => { text += d; if (text.split('\\r\\n').length >= 6) resolve(text); });
            socket.on('error', reject);
          });
          socket.write(command('SET', 'sockets:${run}:from-sandbox', 'hello from the sandbox') + command('INCR', 'sockets:${run}:n') + command('INCR', 'sockets:${run}:n') + command('GET', 'sockets:${run}:from-host'));
          const got = await replies;
          socket.end();
          return { outputFields: { replies: got } };
        };`),
      );
      assert.equal(out.replies, '+OK\r\n:1\r\n:2\r\n$19\r\nhello from the host\r\n');
      assert.equal(await host.get(`sockets:${run}:from-sandbox`), 'hello from the sandbox');
    } finally {
      await host.quit();
    }
  });

  for (const [runtimeVersion, major] of [
    ['node20', 4],
    ['node24', 5],
  ] as const)
    it(`the real redis ${major} client (${runtimeVersion}) runs in the sandbox over net`, async () => {
      const out = succeeded(
        await execute(
          `const redis = require('redis');
      exports.main = async () => {
        const client = redis.createClient({ url: '${redisUrl.href}' });
        client.on('error', (e) => console.error('redis error', e));
        await client.connect();
        await client.set('sockets:${run}:client', 'v1');
        await client.hSet('sockets:${run}:hash', { a: '1', b: '2' });
        const [value, hash] = await client.multi().get('sockets:${run}:client').hGetAll('sockets:${run}:hash').exec();
        await client.quit();
        return { outputFields: { value, hash: JSON.stringify(hash) } };
      };`,
          128,
          runtimeVersion,
        ),
      );
      assert.deepEqual(out, { value: 'v1', hash: '{"a":"1","b":"2"}' });
      const host = createClient({ url: redisUrl.href });
      await host.connect();
      try {
        assert.deepEqual({ ...(await host.hGetAll(`sockets:${run}:hash`)) }, { a: '1', b: '2' });
      } finally {
        await host.quit();
      }
    });
});

describe('MariaDB', () => {
  it('the MySQL handshake from the sandbox (mysql_native_password) and a query; the server version matches the real client', async () => {
    const out = succeeded(
      await execute(`
      const net = require('net'), crypto = require('crypto');
      const sha1 = (b) => crypto.createHash('sha1').update(b).digest();
      const cstring = (b, at) => { const end = b.indexOf(0, at); return [b.toString('latin1', at, end), end + 1]; };
      function reader(socket) {
        let buf = Buffer.alloc(0); const waiting = [];
        socket.on('data', (d) => { buf = Buffer.concat([buf, d]); pump(); });
        function pump() {
          while (waiting.length && buf.length >= 4) {
            const len = buf.readUIntLE(0, 3); if (buf.length < 4 + len) return;
            const packet = { seq: buf[3], payload: buf.subarray(4, 4 + len) }; buf = buf.subarray(4 + len); waiting.shift()(packet);
          }
        }
        return () => new Promise((resolve) => { waiting.push(resolve); pump(); });
      }
      const packet = (seq, payload) => { const h = Buffer.alloc(4); h.writeUIntLE(payload.length, 0, 3); h[3] = seq; return Buffer.concat([h, payload]); };
      exports.main = async () => {
        const socket = net.connect(${mysqlUrl.port}, '${mysqlUrl.hostname}');
        const next = reader(socket);
        const greeting = (await next()).payload;
        const [version, afterVersion] = cstring(greeting, 1);
        const seed1 = greeting.subarray(afterVersion + 4, afterVersion + 12);
        const seed2 = greeting.subarray(afterVersion + 31, afterVersion + 43);
        const seed = Buffer.concat([seed1, seed2]);
        const s1 = sha1(Buffer.from('codestep')), s3 = sha1(Buffer.concat([seed, sha1(s1)]));
        const auth = Buffer.from(s1.map((b, i) => b ^ s3[i]));
        const caps = Buffer.alloc(32); caps.writeUInt32LE(0x1 | 0x8 | 0x200 | 0x8000 | 0x80000, 0); caps.writeUInt32LE(1 << 24, 4); caps[8] = 33;
        socket.write(packet(1, Buffer.concat([caps, Buffer.from('codestep\\0'), Buffer.from([auth.length]), auth, Buffer.from('codestep\\0mysql_native_password\\0')])));
        const ok = (await next()).payload;
        if (ok[0] !== 0) throw new Error('login failed: ' + ok.toString('latin1', 3));
        socket.write(packet(0, Buffer.concat([Buffer.from([3]), Buffer.from('SELECT 6 * 7 AS answer')])));
        const packets = [];
        for (let eofs = 0; eofs < 2;) { const p = await next(); packets.push(p.payload); if (p.payload[0] === 0xfe && p.payload.length < 9) eofs++; }
        const row = packets[packets.length - 2];
        socket.end();
        return { outputFields: { protocol: greeting[0], version, columns: packets[0][0], answer: row.toString('latin1', 1, 1 + row[0]) } };
      };`),
    );
    const [row] = (await withMysql((query) => query('SELECT VERSION() AS version'))) as Array<{ version: string }>;
    const version = row?.version ?? '(none)';
    assert.deepEqual(out, { protocol: 10, version: `5.5.5-${version}`, columns: 1, answer: '42' });
  });

  it('the real mysql 2.18 client runs in the sandbox over net; the host reads its rows', async () => {
    const table = `sockets_${run}`;
    const out = succeeded(
      await execute(`const mysql = require('mysql');
      exports.main = (event, callback) => {
        const db = mysql.createConnection({ host: '${mysqlUrl.hostname}', port: ${mysqlUrl.port}, user: 'codestep', password: 'codestep', database: 'codestep' });
        db.query('CREATE TABLE ${table} (id INT PRIMARY KEY, name VARCHAR(50))', (error) => {
          if (error) return callback(error);
          db.query('INSERT INTO ${table} (id, name) VALUES ?', [[[1, 'ada'], [2, 'grace']]], (error) => {
            if (error) return callback(error);
            db.query('SELECT COUNT(*) AS n FROM ${table}', (error, rows) => {
              db.end();
              callback(error || { outputFields: { n: rows[0].n } });
            });
          });
        });
      };`),
    );
    assert.deepEqual(out, { n: 2 });
    const rows = await withMysql(async (query) => {
      const result = await query(`SELECT id, name FROM ${table} ORDER BY id`);
      await query(`DROP TABLE ${table}`);
      return result;
    });
    assert.deepEqual(JSON.parse(JSON.stringify(rows)), [
      { id: 1, name: 'ada' },
      { id: 2, name: 'grace' },
    ]);
  });
});

describe('MongoDB wire (FerretDB)', () => {
  it('an OP_MSG insert with hand-made BSON from the sandbox; the real mongodb driver finds the document', async () => {
    const collection = `sockets_${run}`;
    const out = succeeded(
      await execute(`
      const net = require('net');
      const cstr = (s) => Buffer.concat([Buffer.from(s), Buffer.from([0])]);
      function bson(doc) {
        const parts = [];
        for (const [key, value] of Object.entries(doc)) {
          if (typeof value === 'string') { const len = Buffer.alloc(4); len.writeInt32LE(Buffer.byteLength(value) + 1); parts.push(Buffer.from([2]), cstr(key), len, cstr(value)); }
          else if (Number.isInteger(value)) { const v = Buffer.alloc(4); v.writeInt32LE(value); parts.push(Buffer.from([0x10]), cstr(key), v); }
          else if (Array.isArray(value)) parts.push(Buffer.from([4]), cstr(key), bson(Object.fromEntries(value.map((v, i) => [String(i), v]))));
          else parts.push(Buffer.from([3]), cstr(key), bson(value));
        }
        const body = Buffer.concat(parts); const size = Buffer.alloc(4); size.writeInt32LE(body.length + 5);
        return Buffer.concat([size, body, Buffer.from([0])]);
      }
      function topLevel(doc) {
        const out = {}; let at = 4;
        while (doc[at] !== 0) {
          const type = doc[at]; const end = doc.indexOf(0, at + 1); const key = doc.toString('utf8', at + 1, end); at = end + 1;
          if (type === 1) { out[key] = doc.readDoubleLE(at); at += 8; }
          else if (type === 0x10) { out[key] = doc.readInt32LE(at); at += 4; }
          else if (type === 2) { const len = doc.readInt32LE(at); out[key] = doc.toString('utf8', at + 4, at + 3 + len); at += 4 + len; }
          else if (type === 3 || type === 4) { at += doc.readInt32LE(at); }
          else if (type === 8) { out[key] = doc[at] === 1; at += 1; }
          else if (type === 0x12 || type === 9) { at += 8; }
          else throw new Error('unexpected BSON type ' + type);
        }
        return out;
      }
      exports.main = async () => {
        const socket = net.connect(${mongoUrl.port}, '${mongoUrl.hostname}');
        const body = Buffer.concat([Buffer.alloc(4), Buffer.from([0]), bson({ insert: '${collection}', documents: [{ _id: 'raw', value: 7 }], $db: 'codestep_sockets' })]);
        const header = Buffer.alloc(16); header.writeInt32LE(16 + body.length, 0); header.writeInt32LE(1, 4); header.writeInt32LE(2013, 12);
        socket.write(Buffer.concat([header, body]));
        let buf = Buffer.alloc(0);
        const reply = await new Promise((resolve, reject) => {
          socket.on('data', (d) => { buf = Buffer.concat([buf, d]); if (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) resolve(buf); });
          socket.on('error', reject);
        });
        socket.destroy();
        const fields = topLevel(reply.subarray(21));
        return { outputFields: { opCode: reply.readInt32LE(12), responseTo: reply.readInt32LE(8), ok: fields.ok, n: fields.n } };
      };`),
    );
    assert.deepEqual(out, { opCode: 2013, responseTo: 1, ok: 1, n: 1 });
    const client = await MongoClient.connect(mongoUrl.href);
    try {
      const docs = await client.db('codestep_sockets').collection(collection).find({}).toArray();
      assert.deepEqual(docs, [{ _id: 'raw', value: 7 }]);
      await client.db('codestep_sockets').collection(collection).drop();
    } finally {
      await client.close();
    }
  });

  for (const [runtimeVersion, major] of [
    ['node20', 6],
    ['node24', 9],
  ] as const)
    it(`mongoose ${major} (${runtimeVersion}) runs in the sandbox over net; the real mongodb driver finds what it saved`, async () => {
      const collection = `sockets_cats_${runtimeVersion}_${run}`;
      const out = succeeded(
        await execute(
          `const mongoose = require('mongoose');
      exports.main = async () => {
        mongoose.set('strictQuery', true);
        await mongoose.connect('${mongoUrl.href}codestep_sockets', { serverSelectionTimeoutMS: 5000 });
        const Cat = mongoose.model('Cat', new mongoose.Schema({ name: String, lives: Number }, { collection: '${collection}' }));
        await Cat.create([{ name: 'tom', lives: 9 }, { name: 'felix', lives: 3 }]);
        const tom = await Cat.findOne({ name: 'tom' }).lean();
        const count = await Cat.countDocuments({ lives: { $gt: 1 } });
        await mongoose.disconnect();
        return { outputFields: { tom: tom.lives, count, version: mongoose.version } };
      };`,
          256,
          runtimeVersion,
        ),
      );
      assert.deepEqual(out, { tom: 9, count: 2, version: out.version });
      assert.match(String(out.version), new RegExp(`^${major}\\.`));
      const client = await MongoClient.connect(mongoUrl.href);
      try {
        const names = (await client.db('codestep_sockets').collection(collection).find({}).sort({ name: 1 }).toArray()).map((d) => d.name as string);
        assert.deepEqual(names, ['felix', 'tom']);
        await client.db('codestep_sockets').collection(collection).drop();
      } finally {
        await client.close();
      }
    });
});
