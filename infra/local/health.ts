// One health probe, run by kafka.sh / ferretdb.sh in a retry loop while a server starts.
//
//   node infra/local/health.ts kafka 127.0.0.1:19092
//   node infra/local/health.ts mongo mongodb://127.0.0.1:27018/
//   node infra/local/health.ts jaeger http://127.0.0.1:13143,http://127.0.0.1:16696
//
// A probe is a single attempt with short timeouts: the shell loop owns the
// overall deadline and checks between attempts that the server process is
// still alive, so a crashed server fails fast instead of waiting out a timeout.
// "Port open" is not enough: a Kafka broker accepts connections before it can
// answer metadata, and the check must prove the protocol works end to end.
// Exit 0 = healthy; exit 1 = not (yet) healthy, with the reason on stderr.
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

async function probeKafka(brokers: string): Promise<string> {
  const kafka = new Kafka({
    clientId: 'codestep-infra-health',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) throw new Error('metadata lists no brokers yet');
    return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function probeMongo(uri: string): Promise<string> {
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: 3_000,
    connectTimeoutMS: 2_000,
    appName: 'codestep-infra-health',
  });
  try {
    await client.connect();
    const ping: { ok?: unknown } = await client.db('admin').command({ ping: 1 });
    if (ping.ok !== 1) throw new Error(`ping answered ${JSON.stringify(ping)}`);
    const info: { version?: unknown; ferretdbVersion?: unknown } = await client.db('admin').command({ buildInfo: 1 });
    const ferret = typeof info.ferretdbVersion === 'string' ? ` (FerretDB ${info.ferretdbVersion})` : '';
    return `ping ok, reports MongoDB ${String(info.version)}${ferret}`;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Jaeger's health extension says it is ready, and its query API answers (the health port opens first). */
async function probeJaeger(urls: string): Promise<string> {
  const [healthUrl, queryUrl] = urls.split(',');
  if (!healthUrl || !queryUrl) throw new Error('expected <health-url>,<query-url>');
  const health = await fetch(`${healthUrl}/status`, { signal: AbortSignal.timeout(2_000) });
  if (!health.ok) throw new Error(`health check answered ${health.status}: ${(await health.text()).slice(0, 200)}`);
  const services = await fetch(`${queryUrl}/api/services`, { signal: AbortSignal.timeout(2_000) });
  if (!services.ok) throw new Error(`query API answered ${services.status}`);
  const body = (await services.json()) as { data?: unknown[] | null };
  return `status ok, query API at ${queryUrl} (${(body.data ?? []).length} service(s) seen)`;
}

const probes: Record<string, (target: string) => Promise<string>> = { kafka: probeKafka, mongo: probeMongo, jaeger: probeJaeger };
const [kind, target] = process.argv.slice(2);
const probe = kind === undefined ? undefined : probes[kind];
if (probe === undefined || target === undefined) {
  process.stderr.write('usage: health.ts kafka <host:port[,host:port]> | mongo <mongodb-uri> | jaeger <health-url>,<query-url>\n');
  process.exit(2);
}

try {
  const summary = await probe(target);
  process.stdout.write(`${summary}\n`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`${kind} not healthy at ${target}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
