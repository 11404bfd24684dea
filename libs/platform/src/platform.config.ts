/**
 * The platform's configuration: one schema, parsed once at start. Embedded mode needs none of
 * it; distributed mode is selected by KAFKA_BROKERS and MONGODB_URI.
 */
import { isoDurationMs, traceTemplateProblem, type HubSpotAppSettings } from '@codestep/gateway-service';
import { ConfigError, parseConfig, type Config } from '@codestep/config';
import type { TelemetryOptions } from '@codestep/telemetry';
import { DEFAULT_STEP_POLICY, type StepPolicy } from '@codestep/core';
import { DEFAULT_CLAIM_LEASE_MS, DEFAULT_DETACH_AFTER_MS, DEFAULT_LEASE_REAPER_INTERVAL_MS, DEFAULT_RUN_STATE_SETTINGS } from '@codestep/executor-service';
import { LIMIT_BOUNDS, MIN_HOST_MEMORY_CEILING_MB } from '@codestep/sandbox';
import { DEFAULT_OPERATOR_LIMITS, DEFAULT_SCHEDULE_BOUNDS, LIMIT_MINIMUMS, operatorLimitProblems, type OperatorLimits, type ScheduleBounds } from '@codestep/workflows';

// The operator's limits: defaults from the domain, minimums from the domain's one rule, and the
// sandbox's hard caps as the most an operator may configure.
const op = DEFAULT_OPERATOR_LIMITS;
const timeLimit = { kind: 'int', min: LIMIT_MINIMUMS.timeoutMs, max: LIMIT_BOUNDS.timeoutMs.max } as const;
const memoryLimit = { kind: 'int', min: LIMIT_MINIMUMS.memoryMb, max: LIMIT_BOUNDS.memoryMb.max } as const;

export const platformSchema = {
  dataDir: { kind: 'string', env: 'CODESTEP_DATA_DIR', doc: 'Directory of the embedded SQLite files and the master key', default: '.codestep-data' },
  httpHost: { kind: 'string', env: 'CODESTEP_HTTP_HOST', doc: 'Address the HTTP API listens on', default: '127.0.0.1' },
  httpPort: { kind: 'int', env: 'CODESTEP_HTTP_PORT', doc: 'Port of the HTTP API (0 = any free port)', default: 8080, min: 0, max: 65535 },
  grpcPort: {
    kind: 'int',
    env: 'CODESTEP_GRPC_PORT',
    doc: 'Port of the public gRPC API (docs/grpc.md), served by the gateway over mutual TLS with the internal CA; 0 = any free port; unset = not served',
    optional: true,
    min: 0,
    max: 65535,
  },
  grpcHost: { kind: 'string', env: 'CODESTEP_GRPC_HOST', doc: 'Address the public gRPC API listens on', default: '127.0.0.1' },
  publicUrl: { kind: 'string', env: 'CODESTEP_PUBLIC_URL', doc: 'Public base URL (OAuth redirect URIs, OpenAPI servers); default http://host:port', optional: true },
  consoleDir: {
    kind: 'string',
    env: 'CODESTEP_CONSOLE_DIR',
    doc: "The web console's built files, served by the gateway at / (default: apps/console/dist, built on first start)",
    optional: true,
  },
  traceUrlTemplate: {
    kind: 'string',
    env: 'CODESTEP_TRACE_URL_TEMPLATE',
    doc: "The tracing UI's URL of a trace, with {traceId} where the trace id goes (Jaeger: http://localhost:16686/trace/{traceId}); the console links each execution to it (GET /v1/config)",
    optional: true,
  },
  kafkaBrokers: { kind: 'list', env: 'KAFKA_BROKERS', doc: 'Kafka bootstrap servers host:port,... — set to use Kafka as the event log', optional: true },
  namespace: {
    kind: 'string',
    env: 'CODESTEP_NAMESPACE',
    doc: "Prefix of this deployment's Kafka topics, consumer groups and transactional ids, for a cluster shared by several deployments",
    default: '',
  },
  kafkaSessionTimeoutMs: {
    kind: 'int',
    env: 'KAFKA_SESSION_TIMEOUT_MS',
    doc: "How long Kafka waits for a silent consumer (an app that died) before giving its partitions to another member, ms; within the broker's group.min/max.session.timeout.ms (6 s to 30 min by default); heartbeats go every third of it",
    default: 6_000,
    min: 1000,
    max: 1_800_000,
  },
  kafkaPartitions: { kind: 'int', env: 'KAFKA_PARTITIONS', doc: 'Partitions of each topic created', default: 3, min: 1, max: 256 },
  mongodbUri: { kind: 'string', env: 'MONGODB_URI', doc: 'MongoDB connection string — set to use MongoDB as the store', optional: true },
  mongodbDatabase: { kind: 'string', env: 'MONGODB_DATABASE', doc: 'MongoDB database name', default: 'codestep' },
  enrollmentGrpc: { kind: 'string', env: 'ENROLLMENT_GRPC_ADDRESS', doc: 'host:port of the enrollment service (Workflows, Enrollments)', default: '127.0.0.1:50151' },
  logGrpc: { kind: 'string', env: 'LOG_GRPC_ADDRESS', doc: 'host:port of the log service (History)', default: '127.0.0.1:50152' },
  brokerGrpc: { kind: 'string', env: 'OAUTH_BROKER_GRPC_ADDRESS', doc: 'host:port of the OAuth broker (Credentials)', default: '127.0.0.1:50153' },
  masterKey: { kind: 'string', env: 'CODESTEP_MASTER_KEY', doc: 'Base64 of 32 bytes encrypting tokens and secrets at rest; embedded mode creates one in the data directory', optional: true },
  tlsDir: {
    kind: 'string',
    env: 'CODESTEP_TLS_DIR',
    doc: 'Directory of the internal CA (ca.crt) and one certificate and key per service (<service>.crt, <service>.key), as `codestep certs create` writes it; embedded default <data dir>/tls, created on first start',
    optional: true,
  },
  tlsCaFile: { kind: 'string', env: 'CODESTEP_TLS_CA_FILE', doc: "PEM file of the CA that signs every service's certificate (with the two below, instead of CODESTEP_TLS_DIR)", optional: true },
  tlsCertFile: { kind: 'string', env: 'CODESTEP_TLS_CERT_FILE', doc: "PEM file of this service's certificate, naming spiffe://codestep/<service> as a URI subject alternative name", optional: true },
  tlsKeyFile: { kind: 'string', env: 'CODESTEP_TLS_KEY_FILE', doc: "PEM file of this service's private key", optional: true },
  grantKey: {
    kind: 'string',
    env: 'CODESTEP_GRANT_KEY',
    doc: 'Base64 of 32 bytes signing execution grants, the same for the enrollment service and the OAuth broker; embedded mode creates one in the data directory',
    optional: true,
  },
  grantTtlMs: {
    kind: 'int',
    env: 'CODESTEP_GRANT_TTL_MS',
    doc: 'How long after an action is requested the broker accepts its grant, ms (a request run later fails retryably and is retried with a new one)',
    default: 15 * 60_000,
    min: 1_000,
  },
  kafkaSsl: { kind: 'bool', env: 'KAFKA_SSL', doc: 'Connect to Kafka over TLS', default: false },
  kafkaSslCaFile: { kind: 'string', env: 'KAFKA_SSL_CA_FILE', doc: "PEM file of the CA of Kafka's certificates (default: the system's)", optional: true },
  kafkaSslCertFile: { kind: 'string', env: 'KAFKA_SSL_CERT_FILE', doc: 'PEM client certificate for Kafka (mutual TLS)', optional: true },
  kafkaSslKeyFile: { kind: 'string', env: 'KAFKA_SSL_KEY_FILE', doc: 'PEM private key of KAFKA_SSL_CERT_FILE', optional: true },
  kafkaSaslMechanism: {
    kind: 'enum',
    env: 'KAFKA_SASL_MECHANISM',
    doc: 'SASL mechanism: plain, scram-sha-256 or scram-sha-512 (with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD)',
    values: ['plain', 'scram-sha-256', 'scram-sha-512'],
    optional: true,
  },
  kafkaSaslUsername: { kind: 'string', env: 'KAFKA_SASL_USERNAME', doc: 'SASL user name', optional: true },
  kafkaSaslPassword: { kind: 'string', env: 'KAFKA_SASL_PASSWORD', doc: 'SASL password', optional: true },
  mongodbTls: { kind: 'bool', env: 'MONGODB_TLS', doc: 'Connect to MongoDB over TLS (as tls=true in MONGODB_URI)', default: false },
  mongodbTlsCaFile: { kind: 'string', env: 'MONGODB_TLS_CA_FILE', doc: "PEM file of the CA of MongoDB's certificate (default: the system's)", optional: true },
  mongodbTlsCertKeyFile: { kind: 'string', env: 'MONGODB_TLS_CERT_KEY_FILE', doc: 'PEM file holding a client certificate and its key for MongoDB (X.509 / mutual TLS)', optional: true },
  executorId: { kind: 'string', env: 'CODESTEP_EXECUTOR_ID', doc: 'Name of this executor process (claims, logs)', optional: true },
  claimLeaseMs: {
    kind: 'int',
    env: 'CODESTEP_CLAIM_LEASE_MS',
    doc: 'Lease of an execution claimed by an executor, renewed while it runs: an execution in flight on an executor that died is reported lost (retryable) this long after its last renewal, ms',
    default: DEFAULT_CLAIM_LEASE_MS,
    min: 1000,
    max: 600_000,
  },
  leaseReaperIntervalMs: {
    kind: 'int',
    env: 'CODESTEP_LEASE_REAPER_INTERVAL_MS',
    doc: "How often each executor looks for claims whose lease ran out (any executor's) and reports their executions lost, ms",
    default: DEFAULT_LEASE_REAPER_INTERVAL_MS,
    min: 100,
    max: 600_000,
  },
  embeddedWorkers: {
    kind: 'int',
    env: 'CODESTEP_EMBEDDED_WORKERS',
    doc: 'Embedded mode: threads besides the main one; 1 runs the executor (its event log and store connections, the sandbox host) in a worker thread of its own, 0 runs every service on the main thread',
    default: 0,
    min: 0,
    max: 1,
  },
  executorConcurrency: { kind: 'int', env: 'CODESTEP_EXECUTOR_CONCURRENCY', doc: 'Executions in flight per executor process', default: 4, min: 1, max: 256 },
  executorDetachAfterMs: {
    kind: 'int',
    env: 'CODESTEP_EXECUTOR_DETACH_AFTER_MS',
    doc: "How long an executor's batch of requests waits for one execution before committing without it (the execution finishes on its own and appends its result itself), ms: a long action never holds up its partition",
    default: DEFAULT_DETACH_AFTER_MS,
    min: 50,
    max: 600_000,
  },
  sandboxPoolSize: { kind: 'int', env: 'CODESTEP_SANDBOX_POOL_SIZE', doc: 'Pre-warmed sandbox workers per executor', default: 2, min: 1, max: 64 },
  sandboxGcHeadroomMb: {
    kind: 'int',
    env: 'CODESTEP_SANDBOX_GC_HEADROOM_MB',
    doc: 'Garbage a sandbox worker may gather before its first full collection, MB (0 = V8 default): more means less CPU per execution and more memory under load',
    default: 64,
    min: 0,
    max: 4096,
  },
  sandboxHostMemoryCeilingMb: {
    kind: 'int',
    env: 'CODESTEP_SANDBOX_HOST_MEMORY_CEILING_MB',
    doc: 'Resident memory of a sandbox host process past which the worker holding the most is ended (MEMORY_LIMIT), MB; 0 = off; default 256 + 3 × the memory limit of each live worker (1024 for 2 workers at 128 MB)',
    optional: true,
    min: 0,
    max: 1_048_576,
  },
  defaultTimeoutMs: {
    ...timeLimit,
    env: 'CODESTEP_ACTION_TIMEOUT_MS',
    doc: `Wall time of an action when neither it nor its tenant sets one, ms (HubSpot: ${op.defaultTimeoutMs}); at most CODESTEP_ACTION_MAX_TIMEOUT_MS`,
    default: op.defaultTimeoutMs,
  },
  defaultMemoryMb: {
    ...memoryLimit,
    env: 'CODESTEP_ACTION_MEMORY_MB',
    doc: `Memory of an action when neither it nor its tenant sets one, MB (HubSpot: ${op.defaultMemoryMb}); at most CODESTEP_ACTION_MAX_MEMORY_MB`,
    default: op.defaultMemoryMb,
  },
  maxTimeoutMs: { ...timeLimit, env: 'CODESTEP_ACTION_MAX_TIMEOUT_MS', doc: 'Operator bound: the largest wall time a tenant or an action may set, ms', default: op.maxTimeoutMs },
  maxMemoryMb: { ...memoryLimit, env: 'CODESTEP_ACTION_MAX_MEMORY_MB', doc: 'Operator bound: the largest memory a tenant or an action may set, MB', default: op.maxMemoryMb },
  drainTimeoutMs: {
    kind: 'int',
    env: 'CODESTEP_DRAIN_TIMEOUT_MS',
    doc: 'On shutdown, how long an executor lets running executions finish before handing them back for redelivery, ms (a little above the default wall time)',
    default: 25_000,
    min: 0,
    max: 900_000,
  },
  httpDrainTimeoutMs: {
    kind: 'int',
    env: 'CODESTEP_HTTP_DRAIN_TIMEOUT_MS',
    doc: 'On shutdown, how long the gateway lets requests and public gRPC calls in flight be answered (it accepts no new ones) before closing their connections, ms',
    default: 10_000,
    min: 0,
    max: 900_000,
  },
  egressAllowHosts: { kind: 'list', env: 'CODESTEP_EGRESS_ALLOW_HOSTS', doc: 'Hosts actions may reach even if they resolve to non-public addresses', default: [] },
  egressAllowSockets: {
    kind: 'list',
    env: 'CODESTEP_EGRESS_ALLOW_SOCKETS',
    doc: "host:port pairs actions' sockets (net/tls: database clients) may reach even on non-public addresses, e.g. 127.0.0.1:6379,db.internal:3306",
    default: [],
  },
  egressMapHosts: { kind: 'map', env: 'CODESTEP_EGRESS_MAP_HOSTS', doc: "host=baseURL rewrites of actions' requests, e.g. api.hubapi.com=http://127.0.0.1:4010", default: {} },
  retryInitialMs: { kind: 'int', env: 'CODESTEP_RETRY_INITIAL_MS', doc: 'First retry delay of a rate-limited action, ms (HubSpot: 1 minute)', default: 60_000, min: 0 },
  retryMaxMs: { kind: 'int', env: 'CODESTEP_RETRY_MAX_MS', doc: 'Longest delay between retries, ms (HubSpot: 8 hours)', default: 8 * 3600_000, min: 0 },
  retryGiveUpMs: { kind: 'int', env: 'CODESTEP_RETRY_GIVE_UP_MS', doc: 'Give up retrying this long after the first attempt, ms (HubSpot: 3 days)', default: 3 * 24 * 3600_000, min: 0 },
  stepMinDelayMs: {
    kind: 'int',
    env: 'CODESTEP_STEP_MIN_DELAY_MS',
    doc: "JsWorkflows: shortest delay api.scheduleNextStep accepts, ms (JsWorkflows' 10 s; 0 for tests)",
    default: DEFAULT_STEP_POLICY.minDelayMs,
    min: 0,
  },
  stepMaxDelayMs: { kind: 'int', env: 'CODESTEP_STEP_MAX_DELAY_MS', doc: 'JsWorkflows: longest delay api.scheduleNextStep accepts, ms (400 days)', default: DEFAULT_STEP_POLICY.maxDelayMs, min: 0 },
  stepMaxPayloadChars: {
    kind: 'int',
    env: 'CODESTEP_STEP_MAX_PAYLOAD_CHARS',
    doc: 'JsWorkflows: largest payload of one scheduled step, characters of JSON',
    default: DEFAULT_STEP_POLICY.maxPayloadChars,
    min: 2,
    max: 4 * 1024 * 1024,
  },
  stepMaxNextSteps: {
    kind: 'int',
    env: 'CODESTEP_STEP_MAX_NEXT_STEPS',
    doc: 'JsWorkflows: most api.scheduleNextStep calls in one step (a fan-out)',
    default: DEFAULT_STEP_POLICY.maxNextSteps,
    min: 1,
  },
  waitMaxTimeoutMs: {
    kind: 'int',
    env: 'CODESTEP_WAIT_MAX_TIMEOUT_MS',
    doc: 'JsWorkflows: longest timeout api.waitForEvent accepts, ms (30 days; the shortest is CODESTEP_STEP_MIN_DELAY_MS)',
    default: DEFAULT_STEP_POLICY.maxWaitTimeoutMs,
    min: 0,
  },
  stepMaxDepth: {
    kind: 'int',
    env: 'CODESTEP_STEP_MAX_DEPTH',
    doc: 'JsWorkflows: longest chain of scheduled steps in a run (a fan-out shares its depth)',
    default: DEFAULT_STEP_POLICY.maxDepth,
    min: 1,
  },
  stepMaxBranches: { kind: 'int', env: 'CODESTEP_STEP_MAX_BRANCHES', doc: 'JsWorkflows: most steps scheduled over a whole run', default: DEFAULT_STEP_POLICY.maxBranches, min: 1 },
  scheduleMinIntervalMs: {
    kind: 'int',
    env: 'CODESTEP_SCHEDULE_MIN_INTERVAL_MS',
    doc: "Schedule triggers: shortest interval between two ticks a workflow may ask for (every, or a cron's gaps), ms (1 minute; tests may set 1000)",
    default: DEFAULT_SCHEDULE_BOUNDS.minIntervalMs,
    min: 1000,
  },
  scheduleGraceMs: {
    kind: 'int',
    env: 'CODESTEP_SCHEDULE_GRACE_MS',
    doc: "Schedule triggers: how late a tick may fire and still be on time, ms; a later one was missed (the trigger's missed: runOnce | skip decides)",
    default: DEFAULT_SCHEDULE_BOUNDS.graceMs,
    min: 0,
  },
  runStoreMaxChars: {
    kind: 'int',
    env: 'CODESTEP_RUN_STORE_MAX_CHARS',
    doc: 'JsWorkflows: largest api.runStore of one run, characters of JSON over all its keys',
    default: DEFAULT_RUN_STATE_SETTINGS.maxChars,
    min: 2,
    max: 16 * 1024 * 1024,
  },
  dedupeWindowMs: {
    kind: 'int',
    env: 'CODESTEP_DEDUPE_WINDOW_MS',
    doc: 'JsWorkflows: how long api.dedupe(key) keeps a key locked per workflow, ms (24 hours)',
    default: DEFAULT_RUN_STATE_SETTINGS.dedupeWindowMs,
    min: 1,
  },
  otlpEndpoint: { kind: 'string', env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', doc: 'OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces; unset = no export', optional: true },
  metricsPort: {
    kind: 'int',
    env: 'CODESTEP_METRICS_PORT',
    doc: "Port of this process's Prometheus endpoint (GET /metrics, docs/metrics.md); unset = none. One per process: each app of a distributed installation its own",
    optional: true,
    min: 1,
    max: 65535,
  },
  metricsHost: { kind: 'string', env: 'CODESTEP_METRICS_HOST', doc: 'Address the Prometheus endpoint listens on (0.0.0.0 in a container)', default: '127.0.0.1' },
  otlpMetricsEndpoint: { kind: 'string', env: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', doc: 'OTLP/HTTP metrics endpoint, e.g. http://127.0.0.1:4318/v1/metrics; unset = no push', optional: true },
  otlpMetricsIntervalMs: { kind: 'int', env: 'OTEL_METRIC_EXPORT_INTERVAL', doc: 'How often metrics are pushed over OTLP, ms', default: 15_000, min: 100 },
  logLevel: { kind: 'enum', env: 'CODESTEP_LOG_LEVEL', doc: 'debug, info, warn or error', default: 'info', values: ['debug', 'info', 'warn', 'error'] },
  hubspotClientId: { kind: 'string', env: 'HUBSPOT_CLIENT_ID', doc: "The platform's HubSpot app client id (enables the HubSpot preset)", optional: true },
  hubspotClientSecret: { kind: 'string', env: 'HUBSPOT_CLIENT_SECRET', doc: "The platform's HubSpot app client secret", optional: true },
  hubspotAuthorizeUrl: { kind: 'string', env: 'HUBSPOT_AUTHORIZE_URL', doc: 'HubSpot authorize URL', default: 'https://app.hubspot.com/oauth/authorize' },
  hubspotTokenUrl: { kind: 'string', env: 'HUBSPOT_TOKEN_URL', doc: 'HubSpot token URL', default: 'https://api.hubapi.com/oauth/v1/token' },
  hubspotRevokeUrl: { kind: 'string', env: 'HUBSPOT_REFRESH_TOKEN_REVOKE_URL', doc: 'HubSpot refresh-token revocation URL', default: 'https://api.hubapi.com/oauth/v1/refresh-tokens' },
  hubspotAppId: {
    kind: 'int',
    env: 'HUBSPOT_APP_ID',
    doc: "The platform's HubSpot app id: with HUBSPOT_CLIENT_SECRET, enables the HubSpot workflow action and webhooks (/integrations/hubspot/…)",
    optional: true,
    min: 1,
  },
  hubspotApiBaseUrl: { kind: 'string', env: 'HUBSPOT_API_BASE_URL', doc: "HubSpot's API, for completing workflow action callbacks", default: 'https://api.hubapi.com' },
  hubspotActionAnswerMs: {
    kind: 'int',
    env: 'HUBSPOT_ACTION_ANSWER_MS',
    doc: 'How long a HubSpot workflow action request waits for its enrollment before answering BLOCK (then the callback completes it), ms',
    default: 3_000,
    min: 0,
    max: 20_000,
  },
  hubspotBlockExpiration: { kind: 'string', env: 'HUBSPOT_BLOCK_EXPIRATION', doc: 'How long HubSpot waits for a BLOCKed action’s callback (ISO 8601 duration)', default: 'P1D' },
  hubspotDeveloperApiKey: { kind: 'string', env: 'HUBSPOT_DEVELOPER_API_KEY', doc: 'Developer API key of the HubSpot app account: `codestep hubspot publish-action` uses it', optional: true },
  oauthProviders: { kind: 'string', env: 'OAUTH_PROVIDERS', doc: 'JSON array of generic OAuth 2.0 providers (id, authorizeUrl, tokenUrl, clientId, clientSecret, scopes, pkce)', optional: true },
  bootstrapTenant: { kind: 'bool', env: 'CODESTEP_BOOTSTRAP_TENANT', doc: 'Create a tenant and API key on first start (embedded default)', default: true },
} as const;

export type PlatformConfig = Config<typeof platformSchema>;

/**
 * Parses and checks the environment.
 * @throws ConfigError listing every problem, each naming its variable (a default above its bound too).
 */
export function loadPlatformConfig(env: Record<string, string | undefined>): PlatformConfig {
  const config = parseConfig(platformSchema, env);
  const s = platformSchema;
  const problems = operatorLimitProblems(operatorLimitsOf(config), {
    defaultTimeoutMs: s.defaultTimeoutMs.env,
    defaultMemoryMb: s.defaultMemoryMb.env,
    maxTimeoutMs: s.maxTimeoutMs.env,
    maxMemoryMb: s.maxMemoryMb.env,
  });
  const ceiling = config.sandboxHostMemoryCeilingMb;
  if (ceiling !== undefined && ceiling > 0 && ceiling < MIN_HOST_MEMORY_CEILING_MB) {
    problems.push(`${s.sandboxHostMemoryCeilingMb.env} must be 0 (off) or at least ${MIN_HOST_MEMORY_CEILING_MB} MB (got ${ceiling})`);
  }
  if (config.stepMinDelayMs > config.stepMaxDelayMs) problems.push(`${s.stepMinDelayMs.env} (${config.stepMinDelayMs}) must not be above ${s.stepMaxDelayMs.env} (${config.stepMaxDelayMs})`);
  problems.push(...connectionProblems(config));
  const trace = config.traceUrlTemplate === undefined ? undefined : traceTemplateProblem(config.traceUrlTemplate);
  if (trace) problems.push(`${s.traceUrlTemplate.env} ${trace}`);
  if (problems.length) throw new ConfigError(problems);
  return config;
}

/** Settings that only make sense together: each problem names the variables and what to set. */
function connectionProblems(c: PlatformConfig): string[] {
  const s = platformSchema;
  const problems: string[] = [];
  const files = [c.tlsCaFile, c.tlsCertFile, c.tlsKeyFile].filter((f) => f !== undefined).length;
  if (files !== 0 && files !== 3) problems.push(`${s.tlsCaFile.env}, ${s.tlsCertFile.env} and ${s.tlsKeyFile.env} go together: set all three, or ${s.tlsDir.env} instead`);
  if (c.kafkaSaslMechanism && (!c.kafkaSaslUsername || !c.kafkaSaslPassword)) problems.push(`${s.kafkaSaslMechanism.env} needs ${s.kafkaSaslUsername.env} and ${s.kafkaSaslPassword.env}`);
  if ((c.kafkaSslCertFile === undefined) !== (c.kafkaSslKeyFile === undefined)) problems.push(`${s.kafkaSslCertFile.env} and ${s.kafkaSslKeyFile.env} go together`);
  return problems;
}

/** The telemetry settings of the configuration, as `startTelemetry` of `@codestep/telemetry` takes them. */
export function telemetryOptionsOf(config: PlatformConfig, serviceName: string): TelemetryOptions {
  return {
    serviceName,
    otlpEndpoint: config.otlpEndpoint,
    metricsPort: config.metricsPort,
    metricsHost: config.metricsHost,
    otlpMetricsEndpoint: config.otlpMetricsEndpoint,
    otlpMetricsIntervalMs: config.otlpMetricsIntervalMs,
  };
}

/** The sandbox settings of the configuration, as `createSandbox` of `@codestep/sandbox` takes them (the apps add `hostApi`). */
export function sandboxOptionsOf(config: PlatformConfig): {
  poolSize: number;
  defaultMemoryMb: number;
  gcHeadroomMb: number;
  hostMemoryCeilingMb?: number;
  egress: { allowHosts: string[]; mapHosts: Record<string, string>; allowSockets: string[] };
} {
  const options: ReturnType<typeof sandboxOptionsOf> = {
    poolSize: config.sandboxPoolSize,
    // The pool is pre-warmed for the memory class most actions run with: the operator's default.
    defaultMemoryMb: config.defaultMemoryMb,
    gcHeadroomMb: config.sandboxGcHeadroomMb,
    egress: { allowHosts: config.egressAllowHosts, mapHosts: config.egressMapHosts, allowSockets: config.egressAllowSockets },
  };
  // Unset: the sandbox's default, sized from the pool and the default memory class.
  if (config.sandboxHostMemoryCeilingMb !== undefined) options.hostMemoryCeilingMb = config.sandboxHostMemoryCeilingMb;
  return options;
}

/** The operator's HubSpot app for the gateway's HubSpot receivers, or undefined when it is not set up. */
export function hubspotAppSettingsOf(config: PlatformConfig): HubSpotAppSettings | undefined {
  if (!config.hubspotAppId || !config.hubspotClientSecret) return undefined;
  if (!isoDurationMs(config.hubspotBlockExpiration))
    throw new Error(`HUBSPOT_BLOCK_EXPIRATION must be an ISO 8601 duration in weeks, days, hours, minutes or seconds, e.g. P1D or PT12H (got ${JSON.stringify(config.hubspotBlockExpiration)})`);
  return {
    appId: config.hubspotAppId,
    clientSecret: config.hubspotClientSecret,
    publicUrl: config.publicUrl ?? `http://${config.httpHost}:${config.httpPort}`,
    apiBaseUrl: config.hubspotApiBaseUrl,
    answerWithinMs: config.hubspotActionAnswerMs,
    blockExpiration: config.hubspotBlockExpiration,
  };
}

/** The operator's execution limits: defaults for tenants and actions that set none, and the bounds over them all. */
export function operatorLimitsOf(config: PlatformConfig): OperatorLimits {
  return { defaultTimeoutMs: config.defaultTimeoutMs, defaultMemoryMb: config.defaultMemoryMb, maxTimeoutMs: config.maxTimeoutMs, maxMemoryMb: config.maxMemoryMb };
}

/** The schedule triggers' bounds of the configuration (`CODESTEP_SCHEDULE_*`). */
export function scheduleBoundsOf(config: PlatformConfig): ScheduleBounds {
  return { minIntervalMs: config.scheduleMinIntervalMs, graceMs: config.scheduleGraceMs };
}

/** The JsWorkflows step bounds of the configuration (`CODESTEP_STEP_*`). */
export function stepPolicyOf(config: PlatformConfig): StepPolicy {
  return {
    minDelayMs: config.stepMinDelayMs,
    maxDelayMs: config.stepMaxDelayMs,
    maxPayloadChars: config.stepMaxPayloadChars,
    maxNextSteps: config.stepMaxNextSteps,
    maxWaitTimeoutMs: config.waitMaxTimeoutMs,
    resumeBaseUrl: config.publicUrl ?? `http://${config.httpHost}:${config.httpPort}`,
    maxDepth: config.stepMaxDepth,
    maxBranches: config.stepMaxBranches,
  };
}
