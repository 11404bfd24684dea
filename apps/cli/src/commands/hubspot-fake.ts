/**
 * `codestep hubspot-fake [--port 4010] [--host 127.0.0.1] [--portal 62515] [--seed seed.json]
 *   [--token TOKEN] [--rate-limit 100]`
 *
 * Serves the HubSpot API fake for local testing of actions: prints the base URL, the token to
 * use and the seeded records, then runs until SIGINT/SIGTERM. Exit code 2 for a bad command line
 * or seed file.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { startHubSpotFake, type HubSpotFake, type SeedDocument } from '@codestep/hubspot-fake';

export const HUBSPOT_FAKE_USAGE = `Usage: codestep hubspot-fake [options]

Serves a local HubSpot API (CRM objects, associations, owners, pipelines, HubDB, engagements,
OAuth, …) for testing actions: point them at it with
  codestep run action.js --map-host api.hubapi.com=<url> --secret HUBSPOT_TOKEN=<token>

Options:
  --port <n>          TCP port (default 4010; 0 picks a free one)
  --host <addr>       Interface (default 127.0.0.1)
  --portal <id>       Portal (hub) id (default 62515)
  --seed <file.json>  Records, owners, associations, HubDB tables, … to start with (README: "HubSpot fake")
  --token <token>     The private-app token it accepts (default: a new pat-local-… token)
  --rate-limit <n>    Requests per second per token (default 100; 0 turns it off)
  --help              Show this help
`;

export interface HubSpotFakeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

class UsageError extends Error {}

interface FakeCommandOptions {
  port: number;
  host: string;
  portalId: number;
  seed: SeedDocument | undefined;
  token: string;
  rateLimit: number;
}

function integer(flag: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > max) throw new UsageError(`--${flag} must be a whole number up to ${max}, got "${value}"`);
  return Number(value);
}

async function readSeed(path: string): Promise<SeedDocument> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the seed file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as SeedDocument;
  } catch (error) {
    throw new UsageError(`seed file ${path} is not a seed document: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function parseOptions(argv: string[]): Promise<FakeCommandOptions | 'help'> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        portal: { type: 'string' },
        seed: { type: 'string' },
        token: { type: 'string' },
        'rate-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const token = values.token ?? `pat-local-${randomBytes(8).toString('hex')}`;
  if (/\s/.test(token) || token === '') throw new UsageError('--token must be non-empty, without spaces');
  const portalId = integer('portal', values.portal, 62515);
  if (portalId === 0) throw new UsageError('--portal must be a positive number');
  return {
    port: integer('port', values.port, 4010, 65535),
    host: values.host ?? '127.0.0.1',
    portalId,
    seed: values.seed === undefined ? undefined : await readSeed(values.seed),
    token,
    rateLimit: integer('rate-limit', values['rate-limit'], 100),
  };
}

/** What the command prints once the fake listens. */
export function banner(fake: HubSpotFake, options: FakeCommandOptions, refs: Record<string, { objectType: string; id: string }>): string {
  const lines = [
    `hubspot-fake listening on ${fake.url}`,
    `  portal: ${options.portalId}`,
    `  token:  ${options.token}`,
    '',
    'Run an action against it:',
    `  codestep run action.js --map-host api.hubapi.com=${fake.url} --secret HUBSPOT_TOKEN=${options.token}`,
  ];
  const seeded = Object.entries(refs);
  if (seeded.length > 0) {
    lines.push('', 'Seeded records:');
    for (const [ref, record] of seeded) lines.push(`  ${ref}: ${record.objectType} ${record.id}`);
  }
  return lines.join('\n') + '\n';
}

/** Starts the fake; resolves with it (the caller keeps the process alive) or with an exit code. */
export async function startFakeCommand(argv: string[], io: HubSpotFakeIo): Promise<HubSpotFake | number> {
  let options: FakeCommandOptions | 'help';
  try {
    options = await parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`codestep hubspot-fake: ${error.message}\n\n${HUBSPOT_FAKE_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(HUBSPOT_FAKE_USAGE);
    return 0;
  }
  let fake: HubSpotFake;
  try {
    fake = await startHubSpotFake({ port: options.port, host: options.host, portalId: options.portalId, accessTokens: { [options.token]: {} }, rateLimitPerSecond: options.rateLimit });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL' && code !== 'EACCES') throw error;
    io.stderr.write(`codestep hubspot-fake: cannot listen on ${options.host}:${options.port} (${code}); choose another --port, or --port 0 for any free one\n`);
    return 2;
  }
  let refs: Record<string, { objectType: string; id: string }> = {};
  try {
    if (options.seed) refs = fake.load(options.seed).refs;
  } catch (error) {
    await fake.close();
    io.stderr.write(`codestep hubspot-fake: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  io.stdout.write(banner(fake, options, refs));
  return fake;
}
