/**
 * Runs the HubSpot fake on its own:
 *   node libs/hubspot-fake/src/main.ts --port 4010 --token pat-xxx [--seed seed.json]
 * Prints `hubspot-fake listening on <url>` on stdout once it accepts requests; stops on
 * SIGINT/SIGTERM. Flags: see cli-args.ts or README.md.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '@codestep/core';
import { parseCliArgs } from './cli-args.ts';
import { startHubSpotFake } from './hubspot-fake.server.ts';
import type { SeedDocument } from './seed-handles.ts';

const logger = createLogger({ service: 'hubspot-fake' }, { level: process.env['HUBSPOT_FAKE_LOG'] === 'debug' ? 'debug' : 'info' });

let options;
let seed: SeedDocument | undefined;
try {
  const { seedFile, ...parsed } = parseCliArgs(process.argv.slice(2));
  options = parsed;
  if (seedFile !== undefined) seed = JSON.parse(readFileSync(seedFile, 'utf8')) as SeedDocument;
} catch (error) {
  process.stderr.write(`hubspot-fake: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}

const fake = await startHubSpotFake({ ...options, logger });
try {
  if (seed) fake.load(seed);
} catch (error) {
  process.stderr.write(`hubspot-fake: ${error instanceof Error ? error.message : String(error)}\n`);
  await fake.close();
  process.exit(2);
}
process.stdout.write(`hubspot-fake listening on ${fake.url}\n`);

let stopping = false;
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'hubspot-fake stopping');
  // Backstop: a close that hangs must not keep the process alive.
  setTimeout(() => process.exit(1), 3000).unref();
  fake.close().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'hubspot-fake close failed');
      process.exit(1);
    },
  );
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
