/**
 * infra/compose/docker-compose.yml is not run anywhere here (no Docker engine): this test keeps it
 * from drifting away from the code. It parses the file, resolves `${VAR...}` interpolation the
 * way Compose does, and checks it against apps/, libs/platform (platformSchema, the apps' start
 * functions) and a few rules of its own (ports on loopback, pinned images). The last tests break
 * a copy of the file on purpose and check that each break is reported.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadPlatformConfig, platformSchema, shutdownBackstopMs } from '@codestep/platform';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const composeDir = join(root, 'infra/compose');
const composeText = readFileSync(join(composeDir, 'docker-compose.yml'), 'utf8');

/** What the file's user must provide (`${VAR:?…}`); a valid master key, as `openssl rand -base64 32` makes. */
const USER_ENV: Record<string, string> = { CODESTEP_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') };
/** Variables an app service may set besides platformSchema's: read by Node itself. */
const NODE_ENV_VARS = new Set(['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'TZ']);
const SCHEMA_ENV = new Set<string>(Object.values(platformSchema).map((field) => field.env));
const GRPC_KEYS = Object.entries(platformSchema).filter(([, f]) => f.env.endsWith('_GRPC_ADDRESS'));

type Yaml = Record<string, unknown>;
interface Service {
  image?: string;
  command?: string | string[];
  working_dir?: string;
  volumes?: Array<string | { type?: string; source?: string; target?: string }>;
  environment?: Record<string, unknown> | string[];
  ports?: Array<string | number | { host_ip?: string; target?: number; published?: string | number }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}

/**
 * Compose's interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
 * ${VAR?error}, ${VAR:+alt}, ${VAR+alt} (not nested). Any other `$` is an error, as in Compose.
 */
function interpolate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$(\$|[A-Za-z_][A-Za-z0-9_]*|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|)/g,
    (whole, token: string, name: string | undefined, op: string | undefined, arg: string | undefined, offset: number) => {
      if (token === '') throw new Error(`invalid interpolation at ${JSON.stringify(text.slice(offset, offset + 20))}: write $$ for a literal $`);
      if (token === '$') return '$';
      if (!name) return env[token] ?? '';
      const value = env[name];
      const set = op?.startsWith(':') ? value !== undefined && value !== '' : value !== undefined;
      switch (op?.replace(':', '')) {
        case undefined:
          return value ?? '';
        case '-':
          return set ? value! : (arg ?? '');
        case '?':
          if (!set) throw new Error(`required variable ${name} is missing a value: ${arg}`);
          return value!;
        case '+':
          return set ? (arg ?? '') : '';
        default:
          throw new Error(`unsupported interpolation ${whole}`);
      }
    },
  );
}

function interpolateAll(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  return value;
}

/** The file as YAML with merge keys (`<<: *anchor`) resolved, as Compose reads it; a JSON copy (no shared references). */
function parseCompose(text: string): Yaml {
  return JSON.parse(JSON.stringify(parse(text, { merge: true }))) as Yaml;
}

/** The file as Compose sees it: parsed, then interpolated from `env`. */
function loadCompose(text: string, env: Record<string, string | undefined> = USER_ENV): Yaml {
  return interpolateAll(parseCompose(text), env) as Yaml;
}

function envOf(service: Service): Record<string, string> {
  const e = service.environment ?? {};
  if (Array.isArray(e)) return Object.fromEntries(e.map((line) => [line.split('=')[0]!, line.slice(line.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)]));
}

function dependsOn(service: Service): Map<string, string> {
  const d = service.depends_on ?? {};
  if (Array.isArray(d)) return new Map(d.map((name) => [name, 'service_started']));
  return new Map(Object.entries(d).map(([name, v]) => [name, v?.condition ?? 'service_started']));
}

function commandOf(service: Service): string[] {
  const c = service.command ?? [];
  return typeof c === 'string' ? c.split(/\s+/).filter(Boolean) : c;
}

/** Apps run as their own process: every directory of apps/ with a src/main.ts, except the CLI. */
const APPS = readdirSync(join(root, 'apps')).filter((a) => a !== 'cli' && existsSync(join(root, 'apps', a, 'src/main.ts')));

/**
 * The platformSchema keys an app's start function reads (`config.<key>`): its main.ts calls
 * `start<Name>App` from @codestep/platform, found in libs/platform/src.
 */
function configKeysReadBy(app: string): Set<string> {
  const main = readFileSync(join(root, 'apps', app, 'src/main.ts'), 'utf8');
  const start = /\b(start[A-Za-z]+App)\(/.exec(main)?.[1];
  assert.ok(start, `apps/${app}/src/main.ts calls no start…App function of @codestep/platform`);
  const dir = join(root, 'libs/platform/src');
  const texts = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
  /** The body of function `name` declared in libs/platform/src, if any. */
  const bodyOf = (name: string): string | undefined => {
    for (const text of texts) {
      const at = text.search(new RegExp(`\\n(export )?(async )?function ${name}\\(`));
      if (at < 0) continue;
      const next = text.slice(at + 2).search(/\n(export |\/\*\*)/);
      return next < 0 ? text.slice(at) : text.slice(at, at + 2 + next);
    }
    return undefined;
  };
  const body = bodyOf(start!);
  assert.ok(body, `${start} (called by apps/${app}/src/main.ts) not found in libs/platform/src`);
  // The start function's reads and those of the `…Peers(config, …)` function it takes its clients
  // of other services from (the executor's, shared with embedded mode's executor thread).
  const called = [...body.matchAll(/\b([a-z][A-Za-z]+Peers)\(config\b/g)].map((m) => bodyOf(m[1]!) ?? '');
  return new Set([body, ...called].flatMap((b) => [...b.matchAll(/\bconfig\.([A-Za-z]+)/g)].map((m) => m[1]!)).filter((k) => k in platformSchema));
}

/** `host:port` → [host, port]; undefined when it is not one. */
function hostPort(address: string): [string, number] | undefined {
  const m = /^([A-Za-z0-9_.-]+):(\d+)$/.exec(address);
  return m ? [m[1]!, Number(m[2])] : undefined;
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6 };

/** Seconds of a Compose duration such as 45s, 1m30s. */
function seconds(duration: string): number {
  let total = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g)) total += Number(n) * UNIT_SECONDS[unit!]!;
  return total;
}

/**
 * Every way the file disagrees with the code or the rules; empty when it is fine. `doc` is the
 * interpolated file, `raw` the file before interpolation (for what must come from the user).
 */
function composeProblems(doc: Yaml, raw: Yaml = parseCompose(composeText)): string[] {
  const problems: string[] = [];
  const services = (doc.services ?? {}) as Record<string, Service>;
  const names = new Set(Object.keys(services));
  const appOf = new Map<string, string>(); // service → app it runs
  const serviceOfApp = new Map<string, string>();

  for (const [name, s] of Object.entries(services)) {
    // Images pinned by tag (or digest), never `latest`.
    const image = s.image ?? '';
    const ref = image.split('/').at(-1) ?? '';
    if (!image) problems.push(`${name}: no image`);
    else if (!ref.includes(':') && !image.includes('@sha256:')) problems.push(`${name}: image ${image} has no tag`);
    else if (/:latest$/.test(image)) problems.push(`${name}: image ${image} is not pinned (latest)`);
    // Published ports on loopback only.
    for (const p of s.ports ?? []) {
      const hostIp = typeof p === 'object' ? p.host_ip : /^(\d+\.\d+\.\d+\.\d+|\[[^\]]+\]):/.exec(String(p))?.[1];
      if (hostIp !== '127.0.0.1') problems.push(`${name}: port ${JSON.stringify(p)} is not published on 127.0.0.1`);
    }
    // Healthchecks read only variables the container has.
    const test = s.healthcheck?.test;
    for (const m of (Array.isArray(test) ? test.join(' ') : (test ?? '')).matchAll(/process\.env\.([A-Z0-9_]+)/g)) {
      if (!(m[1]! in envOf(s))) problems.push(`${name}: its healthcheck reads ${m[1]}, which the service does not set`);
    }
    for (const dep of dependsOn(s).keys()) if (!names.has(dep)) problems.push(`${name}: depends on ${dep}, which is not a service`);
    // Which app it runs: node apps/<app>/src/main.ts, from the repo mounted at its working_dir.
    const main = commandOf(s).find((arg) => /^apps\/[^/]+\/src\/main\.ts$/.test(arg));
    if (!main) continue;
    const app = main.split('/')[1]!;
    if (!existsSync(join(root, main))) problems.push(`${name}: runs ${main}, which does not exist`);
    if (commandOf(s)[0] !== 'node') problems.push(`${name}: command ${JSON.stringify(s.command)} does not start with node`);
    if (!(s.image ?? '').startsWith('node:24')) problems.push(`${name}: image ${s.image} is not Node 24 (the repo's engines)`);
    const mountsRepo = (s.volumes ?? []).some((v) => {
      const [source, target] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
      return source !== undefined && resolve(composeDir, source) === root && target === s.working_dir;
    });
    if (!mountsRepo) problems.push(`${name}: does not mount the repository (${root}, relative to infra/compose) at its working_dir ${s.working_dir}`);
    appOf.set(name, app);
    serviceOfApp.set(app, name);
  }
  for (const app of APPS) if (!serviceOfApp.has(app)) problems.push(`apps/${app}: no service runs apps/${app}/src/main.ts`);

  // The gRPC servers: <NAME>_GRPC_ADDRESS is served by apps/<name> (OAUTH_BROKER → oauth-broker).
  const grpcServer = new Map<string, { service: string; address: string }>();
  for (const [, field] of GRPC_KEYS) {
    const app = field.env
      .replace(/_GRPC_ADDRESS$/, '')
      .toLowerCase()
      .replaceAll('_', '-');
    if (!APPS.includes(app)) {
      problems.push(`${field.env}: no apps/${app} serves it; teach this test which app does`);
      continue;
    }
    const service = serviceOfApp.get(app);
    if (!service) continue;
    const address = envOf(services[service]!)[field.env];
    const hp = address ? hostPort(address) : undefined;
    if (!hp) problems.push(`${service}: serves ${field.env} but sets it to ${JSON.stringify(address)}, not <its service name>:<port>`);
    else if (hp[0] !== service) problems.push(`${service}: binds ${field.env}=${address}, not its own service name ${service}`);
    else grpcServer.set(field.env, { service, address: address! });
  }

  for (const [name, app] of appOf) {
    const s = services[name]!;
    const env = envOf(s);
    const deps = dependsOn(s);
    const needsHealthy = (dep: string, why: string) => {
      if (!names.has(dep)) problems.push(`${name}: ${why} names ${dep}, which is not a service`);
      else if (deps.get(dep) !== 'service_healthy') problems.push(`${name}: ${why}, but does not depend on ${dep} with condition service_healthy`);
      else if (!services[dep]!.healthcheck?.test) problems.push(`${dep}: ${name} waits for it to be healthy, but it has no healthcheck`);
    };
    // Only variables the platform reads (or Node itself): a misspelt one is silently ignored.
    for (const key of Object.keys(env)) {
      if (!SCHEMA_ENV.has(key) && !NODE_ENV_VARS.has(key)) problems.push(`${name}: sets ${key}, which is not a platformSchema variable (libs/platform/src/platform.config.ts)`);
    }
    // The values parse as the app itself would parse them.
    let config: ReturnType<typeof loadPlatformConfig> | undefined;
    try {
      config = loadPlatformConfig(env);
    } catch (error) {
      problems.push(`${name}: its environment does not load: ${(error as Error).message}`);
    }
    // Distributed mode: without both, an app silently falls back to SQLite inside its container.
    if (!env.KAFKA_BROKERS) problems.push(`${name}: KAFKA_BROKERS is not set`);
    for (const broker of (env.KAFKA_BROKERS ?? '').split(',').filter(Boolean)) {
      const hp = hostPort(broker.trim());
      if (!hp) problems.push(`${name}: KAFKA_BROKERS entry ${broker} is not host:port`);
      else needsHealthy(hp[0], `KAFKA_BROKERS=${env.KAFKA_BROKERS}`);
    }
    if (!env.MONGODB_URI) problems.push(`${name}: MONGODB_URI is not set`);
    else {
      const host = /^mongodb:\/\/(?:[^@/]*@)?([A-Za-z0-9_.-]+)/.exec(env.MONGODB_URI)?.[1];
      if (!host) problems.push(`${name}: MONGODB_URI ${env.MONGODB_URI} names no host`);
      else needsHealthy(host, `MONGODB_URI=${env.MONGODB_URI}`);
    }
    const otlp = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    if (otlp) {
      const url = URL.canParse(otlp) ? new URL(otlp) : undefined;
      if (!url || !names.has(url.hostname)) problems.push(`${name}: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${otlp} is not a URL of a service here`);
      else if (!deps.has(url.hostname)) problems.push(`${name}: exports traces to ${url.hostname} but does not depend on it`);
      if (url && url.pathname !== '/v1/traces') problems.push(`${name}: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=${otlp} is not an OTLP/HTTP traces URL (…/v1/traces)`);
    }
    // gRPC: every address the app's start function reads is set (the default 127.0.0.1 is
    // another container's loopback), points at the service serving it, on the port it binds.
    const reads = configKeysReadBy(app);
    for (const [key, field] of GRPC_KEYS) {
      const value = env[field.env];
      if (value === undefined) {
        if (reads.has(key)) problems.push(`${name}: apps/${app} reads ${field.env} but the service does not set it`);
        continue;
      }
      const server = grpcServer.get(field.env);
      if (!server) continue; // reported above
      if (value !== server.address) problems.push(`${name}: ${field.env}=${value}, but ${server.service} binds ${server.address}`);
      if (server.service !== name) needsHealthy(server.service, `${field.env}=${value}`);
    }
    // The master key comes from the user, never a literal or a default in the file.
    const rawService = (raw.services as Record<string, Service> | undefined)?.[name];
    if (reads.has('masterKey') && !/^\$\{CODESTEP_MASTER_KEY:\?[^}]+\}$/.test((rawService && envOf(rawService).CODESTEP_MASTER_KEY) ?? '')) {
      problems.push(`${name}: apps/${app} uses CODESTEP_MASTER_KEY; set it to \${CODESTEP_MASTER_KEY:?<how to make one>} so it comes from the user`);
    }
    // The HTTP API: reachable from outside its container, on the port that is published.
    if (reads.has('httpPort') && config) {
      if (config.httpHost !== '0.0.0.0') problems.push(`${name}: CODESTEP_HTTP_HOST is ${config.httpHost}; the published port needs 0.0.0.0`);
      const targets = (s.ports ?? []).map((p) => (typeof p === 'object' ? Number(p.target) : Number(String(p).split(':').at(-1)!.split('/')[0])));
      if (!targets.includes(config.httpPort)) problems.push(`${name}: listens on ${config.httpPort} but publishes ${JSON.stringify(targets)}`);
    }
    // Several executors: each must get its own id (left unset, each derives one from its hostname).
    if ((s.deploy?.replicas ?? 1) > 1 && env.CODESTEP_EXECUTOR_ID) problems.push(`${name}: ${s.deploy!.replicas} replicas share CODESTEP_EXECUTOR_ID=${env.CODESTEP_EXECUTOR_ID}`);
    // An app that bounds its shutdown by shutdownBackstopMs (the executor and the gateway: their
    // drains, then closing) must not be killed by Docker before that bound.
    const main = readFileSync(join(root, 'apps', app, 'src/main.ts'), 'utf8');
    const runs = /shutdownBackstopMs\(config, '(gateway|executor|embedded)'\)/.exec(main)?.[1] as 'gateway' | 'executor' | 'embedded' | undefined;
    if (runs && config && seconds(s.stop_grace_period ?? '10s') * 1000 <= shutdownBackstopMs(config, runs)) {
      problems.push(`${name}: stop_grace_period ${s.stop_grace_period ?? '10s (default)'} is not longer than its shutdown backstop (${shutdownBackstopMs(config, runs)} ms: the drain, then closing)`);
    }
  }
  return problems;
}

describe('infra/compose/docker-compose.yml', () => {
  it('agrees with apps/, platformSchema and the start functions, and keeps to its rules', () => {
    assert.deepEqual(composeProblems(loadCompose(composeText)), []);
  });

  it('runs every app except the CLI, the executor twice', () => {
    const services = loadCompose(composeText).services as Record<string, Service>;
    const ran = Object.values(services).flatMap((s) =>
      commandOf(s)
        .filter((a) => a.endsWith('/src/main.ts'))
        .map((a) => a.split('/')[1]),
    );
    assert.deepEqual(ran.sort(), [...APPS].sort());
    assert.ok(APPS.length >= 5, `apps found: ${APPS.join(', ')}`);
    const executor = Object.values(services).find((s) => commandOf(s).includes('apps/executor/src/main.ts'))!;
    assert.equal(executor.deploy?.replicas, 2);
    // Unset CODESTEP_EXECUTOR_ID: the executor derives a unique one from its container's hostname.
    assert.match(readFileSync(join(root, 'libs/platform/src/services.ts'), 'utf8'), /executorId: config\.executorId \?\? `\$\{hostname\(\)\}/);
  });

  it("is read with Compose's interpolation rules", () => {
    const env = { A: 'a', EMPTY: '' };
    const cases: Array<[string, string]> = [
      ['$A ${A} $$A', 'a a $A'],
      ['${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${A:-d}', 'd  d a'],
      ['${A:+alt}|${EMPTY:+alt}|${EMPTY+alt}', 'alt||alt'],
      ['${A:?no}${EMPTY?no}', 'a'],
    ];
    for (const [text, expected] of cases) assert.equal(interpolate(text, env), expected, text);
    assert.throws(() => interpolate('${EMPTY:?make one}', env), /required variable EMPTY is missing a value: make one/);
    assert.throws(() => interpolate('key $(openssl rand)', env), /invalid interpolation at "\$\(openssl rand\)"/);
  });

  it('refuses to start without CODESTEP_MASTER_KEY, saying how to make one', () => {
    assert.throws(() => loadCompose(composeText, {}), /CODESTEP_MASTER_KEY.*openssl rand -base64 32/);
  });

  it('its README documents the commands that run it', () => {
    const readme = readFileSync(join(composeDir, 'README.md'), 'utf8');
    for (const needle of ['npm ci', 'CODESTEP_MASTER_KEY=$(openssl rand -base64 32) docker compose', 'up -d --wait', 'logs gateway', 'not exercised by CI']) {
      assert.ok(readme.toLowerCase().includes(needle.toLowerCase()), `infra/compose/README.md does not mention ${needle}`);
    }
    for (const [file, text] of [
      ['README.md', readme],
      ['docker-compose.yml', composeText],
    ]) {
      assert.ok(!text!.includes('OTEL_EXPORTER_OTLP_ENDPOINT'), `infra/compose/${file} names OTEL_EXPORTER_OTLP_ENDPOINT; the platform reads OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`);
    }
  });

  describe('reports a broken copy', () => {
    const broken = (edit: (services: Record<string, Service>) => void): string[] => {
      const doc = loadCompose(composeText);
      edit(doc.services as Record<string, Service>);
      return composeProblems(doc);
    };
    const env = (s: Service | undefined) => s!.environment as Record<string, string>;
    const cases: Array<[string, (services: Record<string, Service>) => void, RegExp]> = [
      [
        'a misspelt variable',
        (s) => {
          const e = env(s.executor);
          e.OTEL_EXPORTER_OTLP_ENDPOINT = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT!;
          delete e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
        },
        /executor: sets OTEL_EXPORTER_OTLP_ENDPOINT, which is not a platformSchema variable/,
      ],
      [
        'a value the app refuses',
        (s) => {
          env(s.gateway).CODESTEP_LOG_LEVEL = 'loud';
        },
        /gateway: its environment does not load: .*CODESTEP_LOG_LEVEL/s,
      ],
      [
        'a client on the wrong port',
        (s) => {
          env(s.gateway).LOG_GRPC_ADDRESS = 'log:50199';
        },
        /gateway: LOG_GRPC_ADDRESS=log:50199, but log binds log:50152/,
      ],
      [
        'a server bound elsewhere',
        (s) => {
          env(s.enrollment).ENROLLMENT_GRPC_ADDRESS = '127.0.0.1:50151';
        },
        /enrollment: binds ENROLLMENT_GRPC_ADDRESS=127.0.0.1:50151, not its own service name/,
      ],
      [
        'a client missing an address',
        (s) => {
          delete env(s.executor).OAUTH_BROKER_GRPC_ADDRESS;
        },
        /executor: apps\/executor reads OAUTH_BROKER_GRPC_ADDRESS but the service does not set it/,
      ],
      [
        'a missing dependency',
        (s) => {
          delete (s.executor!.depends_on as Record<string, unknown>).kafka;
        },
        /executor: KAFKA_BROKERS=kafka:9092, but does not depend on kafka with condition service_healthy/,
      ],
      [
        'a missing app',
        (s) => {
          delete s['oauth-broker'];
        },
        /apps\/oauth-broker: no service runs apps\/oauth-broker\/src\/main\.ts/,
      ],
      [
        'a command that runs nothing',
        (s) => {
          s.log!.command = ['node', 'apps/log/src/main.js'];
        },
        /apps\/log: no service runs/,
      ],
      [
        'an unpinned image',
        (s) => {
          s.mongodb!.image = 'mongo:latest';
        },
        /mongodb: image mongo:latest is not pinned/,
      ],
      [
        'an untagged image',
        (s) => {
          s.jaeger!.image = 'jaegertracing/all-in-one';
        },
        /jaeger: image jaegertracing\/all-in-one has no tag/,
      ],
      [
        'a port open to the network',
        (s) => {
          s.gateway!.ports = ['8080:8080'];
        },
        /gateway: port "8080:8080" is not published on 127.0.0.1/,
      ],
      [
        'a gateway on loopback only',
        (s) => {
          delete env(s.gateway).CODESTEP_HTTP_HOST;
        },
        /gateway: CODESTEP_HTTP_HOST is 127\.0\.0\.1/,
      ],
      [
        'replicas sharing an id',
        (s) => {
          env(s.executor).CODESTEP_EXECUTOR_ID = 'executor';
        },
        /executor: 2 replicas share CODESTEP_EXECUTOR_ID/,
      ],
      [
        'no SQLite fallback',
        (s) => {
          delete env(s.log).MONGODB_URI;
        },
        /log: MONGODB_URI is not set/,
      ],
      [
        'a drain cut short',
        (s) => {
          s.executor!.stop_grace_period = '10s';
        },
        /executor: stop_grace_period 10s is not longer than its shutdown backstop/,
      ],
    ];
    for (const [what, edit, expected] of cases) {
      it(what, () => {
        const problems = broken(edit);
        assert.ok(
          problems.some((p) => expected.test(p)),
          `expected ${expected} among:\n${problems.join('\n')}`,
        );
      });
    }
  });
});
