/** Starts `codestep dev` as a real child process for end-to-end tests, and talks HTTP to it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { MongoClient } from 'mongodb';
import { ensureServiceCertificates } from '@codestep/platform';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const main = join(root, 'apps/cli/src/main.ts');

export interface PlatformProcess {
  url: string;
  apiKey: string | undefined;
  child: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startPlatform(env: Record<string, string>): Promise<PlatformProcess> {
  const child = spawn(process.execPath, [main, 'dev'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      CODESTEP_HTTP_PORT: '0',
      CODESTEP_LOG_LEVEL: 'warn',
      // The tests run in either threading of embedded mode (README "Embedded mode on two cores").
      ...(process.env.CODESTEP_EMBEDDED_WORKERS ? { CODESTEP_EMBEDDED_WORKERS: process.env.CODESTEP_EMBEDDED_WORKERS } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // Generous: on a loaded 2-core machine (load average ~30) `codestep dev` took 31 s to start, 45 s
  // with the executor thread (which loads its own copy of the modules).
  const deadline = Date.now() + 150_000;
  while (!/HTTP API: (\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`codestep dev exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`codestep dev did not start within 150 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /HTTP API: (\S+)/.exec(out)![1]!;
  const apiKey = /API key \(shown once, keep it\): (\S+)/.exec(out)?.[1];
  return {
    url,
    apiKey,
    child,
    output: () => out,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      }),
  };
}

export function api(url: string, key: string | undefined) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(url + path, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What `codestep replay --verify` reports (libs/platform/src/replay.ts), keyed `service/collection`. */
export interface ReplayVerifyReport {
  records: number;
  collections: Record<string, { live: number; rebuilt: number; differing: number; equal: boolean }>;
  equal: boolean;
}

/**
 * Runs `codestep replay --verify` against a running platform's data (`env`: its data directory,
 * or its Kafka and MongoDB) until it finds every rebuilt projection equal to the live one, or
 * `timeoutMs` passed: the consumers apply the tail of the log after the events a test waited for
 * (and a projection read while a batch is applied may be caught halfway), so a first run can be
 * ahead of them. Returns the last report, equal or not, for the test to assert on.
 * Each run has `runLimitMs` to end.
 * @throws Error when the command ends without a report (it failed otherwise than with projections
 * that differ), or a run has not ended within `runLimitMs` (it is killed).
 */
export async function replayVerified(env: Record<string, string>, timeoutMs = 60_000, runLimitMs = 120_000): Promise<ReplayVerifyReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { code, stdout, stderr } = await runNode([main, 'replay', '--verify'], env, runLimitMs, 'codestep replay --verify');
    let report: ReplayVerifyReport;
    try {
      report = JSON.parse(stdout) as ReplayVerifyReport;
    } catch {
      throw new Error(`codestep replay --verify exited with ${code} without a report:\n${stdout}\n${stderr}`);
    }
    if (report.equal || Date.now() > deadline) return report;
    console.log(`# replay --verify: not caught up yet (${differing(report)}); again`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Runs `node <args>` in the repository with `env` (and PATH, HOME) to its end, and gives its exit
 * code and output (the report is stdout; log lines, JSON too, go to stderr).
 * @throws Error naming `what` when it has not ended within `limitMs`: it is killed, and the error carries its output so far.
 */
export async function runNode(args: string[], env: Record<string, string>, limitMs: number, what: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd: root, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, limitMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (timedOut) throw new Error(`${what} did not end within ${limitMs} ms and was killed; its output so far:\n${stdout}\n${stderr}`);
  return { code, stdout, stderr };
}

/** The collections of a report that differ, for an assertion's message. */
export const differing = (report: ReplayVerifyReport): string => JSON.stringify(Object.fromEntries(Object.entries(report.collections).filter(([, c]) => !c.equal)));

export interface AppProcess {
  name: string;
  child: ChildProcess;
  out: () => string;
}

export interface DistributedPlatform {
  url: string;
  apiKey: string;
  env: Record<string, string>;
  apps: Map<string, AppProcess>;
  /** Starts (or restarts) one app as its own process; resolves once it logged that it started. */
  startApp(key: string, app: string, extra?: Record<string, string>): Promise<AppProcess>;
  kill9(key: string): Promise<void>;
  stop(): Promise<void>;
}

export interface DistributedPlatformOptions {
  brokers: string;
  mongoUri: string;
  namespace: string;
  executors: number;
  env?: Record<string, string>;
  /** More variables for one app, by its key (`log`, `executor-0`, …): a metrics port, say. */
  appEnv?: Record<string, Record<string, string>>;
}

/** A TCP port free on loopback right now. */
export async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Drops a distributed run's MongoDB databases (`<namespace>_<service>`, replays included). */
export async function dropNamespaceDatabases(uri: string, namespace: string): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const { databases } = await client.db().admin().listDatabases();
    for (const d of databases) if (d.name.startsWith(`${namespace}_`)) await client.db(d.name).dropDatabase();
  } finally {
    await client.close();
  }
}

/**
 * Every app as its own process (distributed mode) over the given Kafka and MongoDB, in its own
 * namespace and databases, talking gRPC over mutual TLS (a CA and certificates made for the run): the OAuth broker, the enrollment and log services, `executors`
 * executors and the gateway.
 */
export async function startDistributedPlatform(options: DistributedPlatformOptions): Promise<DistributedPlatform> {
  const { randomBytes } = await import('node:crypto');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const [enrollment, log, broker, http] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
  const dataDir = mkdtempSync(join(tmpdir(), 'codestep-dist-'));
  // Mutual TLS between the apps, with the certificates embedded mode would make (`codestep certs create`).
  const tlsDir = join(dataDir, 'tls');
  await ensureServiceCertificates(tlsDir);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    KAFKA_BROKERS: options.brokers,
    MONGODB_URI: options.mongoUri,
    MONGODB_DATABASE: options.namespace,
    CODESTEP_NAMESPACE: options.namespace,
    ENROLLMENT_GRPC_ADDRESS: `127.0.0.1:${enrollment}`,
    LOG_GRPC_ADDRESS: `127.0.0.1:${log}`,
    OAUTH_BROKER_GRPC_ADDRESS: `127.0.0.1:${broker}`,
    CODESTEP_HTTP_PORT: String(http),
    CODESTEP_DATA_DIR: dataDir,
    CODESTEP_TLS_DIR: tlsDir,
    CODESTEP_MASTER_KEY: randomBytes(32).toString('base64'),
    CODESTEP_GRANT_KEY: randomBytes(32).toString('base64'),
    CODESTEP_LOG_LEVEL: 'info',
    ...options.env,
  };
  const apps = new Map<string, AppProcess>();
  /** Every child spawned, started or still starting: a platform that failed to start stops them all. */
  const children = new Set<ChildProcess>();
  const startApp = async (key: string, app: string, extra: Record<string, string> = {}): Promise<AppProcess> => {
    const child = spawn(process.execPath, [join(root, 'apps', app, 'src/main.ts')], { cwd: root, env: { ...env, ...options.appEnv?.[key], ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 90_000;
    while (!/"msg":"[a-z -]*started"/.test(out)) {
      if (child.exitCode !== null) throw new Error(`${key} exited with ${child.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`${key} did not start within 90 s:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const a = { name: key, child, out: () => out };
    apps.set(key, a);
    return a;
  };
  const platform: DistributedPlatform = {
    url: `http://127.0.0.1:${http}`,
    apiKey: '',
    env,
    apps,
    startApp,
    kill9: (key) =>
      new Promise((resolve) => {
        const a = apps.get(key)!;
        if (a.child.exitCode !== null) return resolve();
        a.child.once('exit', () => resolve());
        a.child.kill('SIGKILL');
      }),
    async stop() {
      const running = () => [...children].filter((child) => child.exitCode === null && child.signalCode === null);
      for (const child of running()) child.kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (running().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const child of running()) child.kill('SIGKILL');
    },
  };
  try {
    await startApp('oauth-broker', 'oauth-broker');
    await startApp('enrollment', 'enrollment');
    await startApp('log', 'log');
    await Promise.all(Array.from({ length: options.executors }, (_, i) => startApp(`executor-${i}`, 'executor', { CODESTEP_EXECUTOR_ID: `executor-${i}` })));
    const gateway = await startApp('gateway', 'gateway');
    const key = /API key \(shown once\): (\S+)/.exec(gateway.out())?.[1];
    if (!key) throw new Error(`the gateway printed no API key:\n${gateway.out()}`);
    platform.apiKey = key;
    return platform;
  } catch (error) {
    await platform.stop();
    throw error;
  }
}
