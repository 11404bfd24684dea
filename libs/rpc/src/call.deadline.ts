/**
 * The deadline of the call being served, passed on to the service calls made for it. Inside
 * `withCallDeadline(at, fn)` every call of a promise client (`createClient`'s over gRPC,
 * `createLocalClient`'s in process) ends by `at` at the latest, even when its own deadline (10 s
 * by default) is later: a caller that gives up after 2 s does not leave the calls behind its call
 * running for 10. Work started there that outlives the call (a background job) is started
 * `withoutCallDeadline`, so its calls keep their own deadlines.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<number>();

/** Runs `fn` with the service calls it makes ending by `at` (ms since the epoch), or by an enclosing, earlier deadline. */
export function withCallDeadline<T>(at: number, fn: () => T): T {
  const outer = current.getStore();
  return current.run(outer === undefined ? at : Math.min(outer, at), fn);
}

/** Runs `fn` (work that outlives the call being served) without the served call's deadline. */
export function withoutCallDeadline<T>(fn: () => T): T {
  return current.exit(fn);
}

/** The deadline of a service call made now whose own is `ms` away: the earlier of it and the served call's. */
export function callDeadline(ms: number): number {
  const own = Date.now() + ms;
  const served = current.getStore();
  return served === undefined ? own : Math.min(own, served);
}
