#!/usr/bin/env node
/**
 * codestep's command line:
 *   codestep dev                 the whole platform in this process (embedded mode)
 *   codestep run <action.js> …   one action, locally, through the same sandbox as the executor
 *   codestep replay [--verify]   rebuild every projection from the event log
 *   codestep tenants create …    create a tenant and its API key
 *   codestep keys …              the tenant's API keys over the HTTP API (create, list, revoke)
 *   codestep certs create <dir>  the services' certificates (CODESTEP_TLS_DIR)
 *   codestep hubspot-fake        a local HubSpot API to test actions against
 *   codestep hubspot publish-action   the HubSpot app's workflow action definition
 *   codestep workflows …         day-two operations over the HTTP API (versions, rollback, tests, retries, bulk enroll)
 *   codestep test … / enroll …   the same as codestep workflows test / enroll
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '@codestep/core';

const USAGE = `usage: codestep <command>
  dev                  run the whole platform (embedded mode; data in CODESTEP_DATA_DIR)
  run <action.js> ...  run one action locally (codestep run --help)
  replay [--verify]    rebuild every projection from the event log (--verify: compare with live, change nothing)
  tenants create <name> [--default-timeout-ms N] ...  create a tenant and print its API key (codestep tenants --help)
  keys create <name> | list | revoke <keyId>  your tenant's API keys, over the HTTP API (codestep keys --help)
  certs create <dir> [--host NAME]  make the services' CA and certificates for CODESTEP_TLS_DIR (codestep certs --help)
  certs client <dir> <name>        a certificate for a caller of the public gRPC API (docs/grpc.md)
  hubspot-fake [--port N] [--seed FILE]  serve a local HubSpot API to test actions against (codestep hubspot-fake --help)
  hubspot publish-action [--input name:type] [--output name:type]  create or update the HubSpot app's workflow action (codestep hubspot --help)
  workflows <subcommand> ...  versions, diff, rollback, enable/disable/archive, test, retry, bulk enroll (codestep workflows --help)
  test <workflowId> <actionId> [--dry-run] ...  test a saved action (or a draft: --code FILE), as codestep workflows test
  enroll <workflowId> --file objects.csv|.ndjson  bulk enrollment with a progress bar, as codestep workflows enroll
  --version            print codestep's version
Every command answers --help without starting anything.`;

const DEV_USAGE = `Usage: codestep dev

Runs the whole platform in this process (embedded mode): the HTTP API, the console and every
service, with its data in CODESTEP_DATA_DIR (default .codestep-data). The first start creates a
tenant and prints its API key once. Stops on SIGINT/SIGTERM.
`;

const REPLAY_USAGE = `Usage: codestep replay [--verify]

Rebuilds every projection from the event log (same configuration as the platform).
  --verify   compare the rebuilt projections with the live ones, change nothing (exit 1 if they differ)
`;

/** The version of this package (apps/cli/package.json), which \`codestep --version\` prints. */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** True when the command line asks for help: the command answers it and starts nothing. */
const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

/** `codestep replay [--verify]`: every projection rebuilt from the event log. */
async function replay(rest: string[]): Promise<number> {
  if (wantsHelp(rest)) {
    process.stdout.write(REPLAY_USAGE);
    return 0;
  }
  const verify = rest.includes('--verify');
  const unknown = rest.filter((a) => a !== '--verify');
  if (unknown.length) {
    process.stderr.write(`codestep replay: unknown argument ${unknown[0]}\n${USAGE}\n`);
    return 2;
  }
  // Imported here, not at the top: a command (or --help) that does not need the platform starts at once.
  const { loadPlatformConfig, replayProjections } = await import('@codestep/platform');
  const config = loadPlatformConfig(process.env);
  const report = await replayProjections(config, createLogger({ app: 'replay' }, { level: 'warn' }), { verify });
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  return report.equal ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`codestep ${version()}\n`);
      return 0;
    case 'run': {
      const { runCommand } = await import('./commands/run.ts');
      return runCommand(rest);
    }
    case 'tenants': {
      const { tenantsCommand } = await import('./commands/tenants.ts');
      return tenantsCommand(rest, process.env, process);
    }
    case 'keys': {
      const { keysCommand } = await import('./commands/keys.ts');
      return keysCommand(rest, process.env, process);
    }
    case 'workflows':
    case 'test': // the two day-two commands used most are at the top level too
    case 'enroll': {
      const { workflowsCommand } = await import('./commands/workflows.ts');
      return workflowsCommand(command === 'workflows' ? rest : [command, ...rest], process.env, process);
    }
    case 'certs': {
      const { certsCommand } = await import('./commands/certs.ts');
      return certsCommand(rest, process);
    }
    case 'hubspot': {
      const { hubspotCommand } = await import('./commands/hubspot.ts');
      return hubspotCommand(rest, process.env, process);
    }
    case 'hubspot-fake': {
      const { startFakeCommand } = await import('./commands/hubspot-fake.ts');
      const fake = await startFakeCommand(rest, process);
      if (typeof fake === 'number') return fake;
      const stop = () => void fake.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return -1; // keeps running until a signal
    }
    case 'dev':
      if (wantsHelp(rest)) {
        process.stdout.write(DEV_USAGE);
        return 0;
      }
      if (rest.length) {
        process.stderr.write(`codestep dev: unknown argument ${rest[0]}\n${DEV_USAGE}`);
        return 2;
      }
      await dev();
      return -1; // keeps running until a signal
    case 'replay':
      return replay(rest);
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`codestep: unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

/** The banner's line of the public gRPC API: its address and this machine's client certificate. */
function grpcLine(grpc: { address: string; client?: { ca: string; cert: string; key: string } } | undefined): string {
  if (!grpc) return '';
  const tls = grpc.client ? `mutual TLS: ${grpc.client.ca}, ${grpc.client.cert}, ${grpc.client.key}` : 'mutual TLS: a certificate of your CA (codestep certs client)';
  return `  gRPC API: ${grpc.address}   ${tls} (docs/grpc.md)\n`;
}

async function dev(): Promise<void> {
  const { loadPlatformConfig, sandboxOptionsOf, shutdownBackstopMs, startEmbedded, stopOnSignal, telemetryOptionsOf } = await import('@codestep/platform');
  const { startTelemetry } = await import('@codestep/telemetry');
  const config = loadPlatformConfig(process.env);
  const logger = createLogger({ app: 'codestep' }, { level: config.logLevel });
  const telemetry = startTelemetry(telemetryOptionsOf(config, 'codestep'));
  const metricsUrl = await telemetry.metricsUrl(); // fails the start when the port is taken
  const { createSandbox } = await import('@codestep/sandbox');
  let bootstrap = '';
  const platform = await startEmbedded(config, logger, {
    createSandbox: (hostApi) => createSandbox({ ...sandboxOptionsOf(config), hostApi }),
    onBootstrap: (t) => {
      bootstrap = `\nFirst start: created tenant ${t.tenantId}.\nAPI key (shown once, keep it): ${t.apiKey}\n  export CODESTEP_API_KEY=${t.apiKey}\n`;
    },
  });
  process.stdout.write(
    `codestep is running (embedded mode)\n  Console: ${platform.url}/\n  HTTP API: ${platform.url}   OpenAPI: ${platform.url}/openapi.json\n${grpcLine(platform.grpc)}${metricsUrl ? `  Metrics: ${metricsUrl}\n` : ''}  data: ${config.dataDir}\n${bootstrap}`,
  );
  stopOnSignal(
    async () => {
      await platform.stop();
      await telemetry.shutdown();
    },
    logger,
    shutdownBackstopMs(config, 'embedded'),
  );
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`codestep: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
