/**
 * Runs the HubSpot fake on its own:
 *   node libs/hubspot-fake/src/main.ts --port 4010 --token pat-xxx
 * Prints `hubspot-fake listening on <url>` on stdout once it accepts requests; stops on
 * SIGINT/SIGTERM. Flags: see cli-args.ts or README.md.
 */
import { createLogger } from '@codestep/core';
import { parseCliArgs } from './cli-args.ts';
import { startHubSpotFake } from './hubspot-fake.server.ts';

const logger = createLogger({ service: 'hubspot-fake' }, { level: process.env['HUBSPOT_FAKE_LOG'] === 'debug' ? 'debug' : 'info' });

let options;
try {
  options = parseCliArgs(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`hubspot-fake: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}

const fake = await startHubSpotFake({ ...options, logger });
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
