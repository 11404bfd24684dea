/**
 * An example client of codestep's public gRPC API, as another team's service would write one:
 * its stubs are generated from proto/codestep/public/v1 (`./generated`, made by
 * `npm run codegen` with protoc and ts-proto), it connects over mutual TLS with a certificate of
 * the deployment's CA, sends the tenant's API key with every call, sets a deadline on every call,
 * and reads errors' google.rpc.Status details. docs/grpc.md explains each part.
 *
 *   node examples/grpc-client/client.ts services                      the services the server lists (reflection)
 *   node examples/grpc-client/client.ts create-workflow '<json>'      a workflow, as POST /v1/workflows takes it
 *   node examples/grpc-client/client.ts enroll <workflowId> <objectId> [name=value]...
 *   node examples/grpc-client/client.ts enroll-batch <workflowId> <objectId>...
 *   node examples/grpc-client/client.ts get-enrollment <enrollmentId>
 *   node examples/grpc-client/client.ts list-enrollments <workflowId>
 *   node examples/grpc-client/client.ts set-status <workflowId> enabled|disabled|archived
 *   node examples/grpc-client/client.ts stream [--workflow <id>] [--until <type>]   history events as they happen
 *
 * Environment: CODESTEP_GRPC_ADDRESS (host:port), CODESTEP_API_KEY, CODESTEP_GRPC_CA_FILE,
 * CODESTEP_GRPC_CERT_FILE, CODESTEP_GRPC_KEY_FILE, CODESTEP_GRPC_DEADLINE_MS (default 10000).
 * Each answer is printed as one JSON line; a refusal as {"error": {...}} with exit code 1.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { CodestepApiClient, type HistoryEvent } from './generated/codestep/public/v1/api.ts';
import { BadRequest, ErrorInfo } from './generated/google/rpc/error_details.ts';
import { Status } from './generated/google/rpc/status.ts';

const env = process.env;
const need = (name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`set ${name}`);
  return v;
};

/** Mutual TLS: our certificate for the server, and the server must be codestep's gateway. */
function credentials(): grpc.ChannelCredentials {
  const read = (name: string) => readFileSync(need(name));
  return grpc.credentials.createSsl(read('CODESTEP_GRPC_CA_FILE'), read('CODESTEP_GRPC_KEY_FILE'), read('CODESTEP_GRPC_CERT_FILE'), {
    checkServerIdentity: (_host, cert) => (/URI:spiffe:\/\/codestep\/gateway(,|$)/.test(cert.subjectaltname ?? '') ? undefined : new Error("the server is not codestep's gateway")),
  });
}

/** The TLS server name: the gateway's identity (our check above), never the address, which may be an IP. */
const CHANNEL: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'gateway.codestep' };

/** The tenant's API key on every call. */
function metadata(): grpc.Metadata {
  const md = new grpc.Metadata();
  if (env.CODESTEP_API_KEY) md.set('authorization', `Bearer ${env.CODESTEP_API_KEY}`);
  return md;
}

const deadline = () => ({ deadline: Date.now() + Number(env.CODESTEP_GRPC_DEADLINE_MS ?? 10_000) });

/** A refusal with its rich details (google.rpc.Status in grpc-status-details-bin). */
function describe(error: grpc.ServiceError): Record<string, unknown> {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  const out: Record<string, unknown> = { status: error.code, code: grpc.status[error.code], message: error.details };
  if (raw instanceof Buffer) {
    for (const d of Status.decode(raw).details) {
      if (d.typeUrl.endsWith('/google.rpc.BadRequest')) out.fieldViolations = BadRequest.decode(d.value).fieldViolations;
      if (d.typeUrl.endsWith('/google.rpc.ErrorInfo')) out.reason = ErrorInfo.decode(d.value).reason;
    }
  }
  return out;
}

const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

function unary<Req, Res>(client: CodestepApiClient, method: string, request: Req): Promise<Res> {
  const fn = (client as unknown as Record<string, (r: Req, md: grpc.Metadata, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => void>)[method]!;
  return new Promise((resolve, reject) => fn.call(client, request, metadata(), deadline(), (e, r) => (e ? reject(e) : resolve(r))));
}

/** The services the server lists, through server reflection (what `grpcurl list` does). */
async function services(address: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const protoFile = join(dirname(require.resolve('@grpc/reflection')), '../proto/grpc/reflection/v1/reflection.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoFile, { keepCase: true })) as unknown as {
    grpc: {
      reflection: {
        v1: {
          ServerReflection: new (
            a: string,
            c: grpc.ChannelCredentials,
            o: grpc.ChannelOptions,
          ) => grpc.Client & { ServerReflectionInfo(md: grpc.Metadata, o: grpc.CallOptions): grpc.ClientDuplexStream<unknown, { list_services_response?: { service: Array<{ name: string }> } }> };
        };
      };
    };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, credentials(), CHANNEL);
  try {
    return await new Promise((resolve, reject) => {
      const call = client.ServerReflectionInfo(metadata(), deadline());
      call.on('data', (r) => {
        resolve((r.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '*' });
    });
  } finally {
    client.close();
  }
}

/**
 * History events as JSON lines until the call ends, or one of type `until` (then exit 0). The
 * server's response headers say the stream is subscribed (every event from then on comes): the
 * line {"subscribed":true} is printed then, before any event.
 */
function stream(client: CodestepApiClient, args: string[]): Promise<void> {
  const opt = (name: string) => (args.includes(name) ? (args[args.indexOf(name) + 1] ?? '') : '');
  const until = opt('--until');
  const call = client.streamHistory({ workflowId: opt('--workflow'), enrollmentId: opt('--enrollment') }, metadata(), env.CODESTEP_GRPC_DEADLINE_MS ? deadline() : {});
  return new Promise((resolve, reject) => {
    call.once('metadata', () => print({ subscribed: true }));
    call.on('data', (e: HistoryEvent) => {
      print(e);
      if (until && e.type === until) {
        call.cancel();
        resolve();
      }
    });
    call.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED && until ? resolve() : reject(e)));
    call.on('end', () => resolve());
  });
}

async function run(client: CodestepApiClient, address: string, [command, ...args]: string[]): Promise<void> {
  switch (command) {
    case 'services':
      return print({ services: await services(address) });
    case 'create-workflow':
      return print(await unary(client, 'createWorkflow', { definition: JSON.parse(args[0] ?? '{}') as unknown, requestId: '' }));
    case 'enroll': {
      const [workflowId = '', objectId = '', ...props] = args;
      const properties = Object.fromEntries(props.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
      return print(await unary(client, 'enroll', { workflowId, object: { objectType: 'CONTACT', objectId, properties }, requestId: '', dryRun: false }));
    }
    case 'enroll-batch': {
      const [workflowId = '', ...ids] = args;
      return print(
        await unary(client, 'enrollBatch', { workflowId, rows: ids.map((objectId) => ({ object: { objectType: 'CONTACT', objectId, properties: {} }, idempotencyKey: '' })), batchKey: '' }),
      );
    }
    case 'get-enrollment':
      return print(await unary(client, 'getEnrollment', { enrollmentId: args[0] ?? '' }));
    case 'list-enrollments':
      return print(await unary(client, 'listEnrollments', { workflowId: args[0] ?? '', status: '', objectId: '', startedAfter: undefined, startedBefore: undefined, pageSize: 0, pageToken: '' }));
    case 'set-status':
      return print(await unary(client, 'setWorkflowStatus', { workflowId: args[0] ?? '', status: args[1] ?? '' }));
    case 'stream':
      return stream(client, args);
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}: see the header of examples/grpc-client/client.ts`);
  }
}

const address = need('CODESTEP_GRPC_ADDRESS');
const client = new CodestepApiClient(address, credentials(), CHANNEL);
try {
  await run(client, address, process.argv.slice(2));
} catch (error) {
  const e = error as grpc.ServiceError;
  print({ error: typeof e.code === 'number' ? describe(e) : { message: e instanceof Error ? e.message : String(e) } });
  process.exitCode = 1;
} finally {
  client.close();
}
