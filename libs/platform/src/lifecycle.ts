/** Runs until SIGINT/SIGTERM, then stops on purpose, with a backstop so a stuck close never hangs. */
import type { Logger } from '@codestep/core';

export function stopOnSignal(stop: () => Promise<void>, logger: Logger, backstopMs = 15_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Repeated signals are ignored: `npm start` forwards Ctrl-C to a process that got it already.
    logger.info({ signal, backstopMs }, 'stopping');
    setTimeout(() => {
      logger.error({ backstopMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, backstopMs).unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
