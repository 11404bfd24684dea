/**
 * The sandbox host's memory backstop. The in-context accounting (`worker/context/memory.part.ts`)
 * charges every way a context can allocate outside the V8 heap, but it is made of wrapped
 * built-ins: a path it misses (a method a new V8 adds, a bug) would let one execution grow the
 * whole host, and every execution in it, until the OS kills the process. This does not depend
 * on anything inside the contexts.
 *
 * While executions run, the host's resident memory (RSS, the whole process) is sampled every
 * `sampleMs`. Past the ceiling, each worker is asked what it holds, and the one holding the
 * most is ended (its execution fails with `MEMORY_LIMIT`; the pool replaces it). What a worker
 * holds (see `WorkerPool`):
 * - it answers itself, from its own thread: V8 heap used + its array buffers, shared ones
 *   included (`process.memoryUsage()` in the worker);
 * - a worker that does not answer within `probeTimeoutMs` is running synchronous code; the
 *   host reads its V8 statistics from outside (`worker.getHeapStatistics()`: heap used +
 *   `external_memory`, which counts `ArrayBuffer`s but not `SharedArrayBuffer`s), and such a
 *   "blind" worker is also charged the memory nobody accounts for (RSS − the host's RSS when
 *   its pool was ready − what every worker reported).
 * A worker holding less than `minVictimBytes` is never ended: it is not what filled the host.
 */

/** What one worker holds, as measured. */
export interface Holding<W> {
  worker: W;
  bytes: number;
  /** The worker did not answer: `bytes` are its V8 statistics, read from outside. */
  blind: boolean;
}

export interface MemoryBackstopOptions<W> {
  /** Resident memory of the host process past which a worker is ended, bytes (0 = off). */
  ceilingBytes: () => number;
  sampleMs: number;
  minVictimBytes: number;
  /** The host's resident memory now, bytes. */
  rss: () => number;
  /** Whether executions are running (sampling stops when none are). */
  active: () => boolean;
  /** The live workers. */
  workers: () => W[];
  measure: (worker: W) => Promise<Omit<Holding<W>, 'worker'>>;
  /** Ends the worker (and fails its execution); resolves once its memory is released. */
  end: (worker: W, holdingBytes: number, rssBytes: number) => Promise<void>;
  /** Over the ceiling with no worker worth ending (once per crossing). */
  warn: (message: string) => void;
}

/**
 * The worker to end: the one holding the most, blind workers charged the unexplained memory
 * too; none when even that one holds less than `minBytes`.
 */
export function chooseVictim<W>(holdings: Array<Holding<W>>, rssBytes: number, baselineBytes: number, minBytes: number): { worker: W; bytes: number } | undefined {
  let reported = 0;
  for (const holding of holdings) reported += holding.bytes;
  const unexplained = Math.max(0, rssBytes - baselineBytes - reported);
  let best: { worker: W; bytes: number } | undefined;
  for (const holding of holdings) {
    const bytes = holding.bytes + (holding.blind ? unexplained : 0);
    if (!best || bytes > best.bytes) best = { worker: holding.worker, bytes };
  }
  return best && best.bytes >= minBytes ? best : undefined;
}

const MB = 1024 * 1024;

/** Samples the host's memory while work runs and ends the worker holding the most past the ceiling. */
export class MemoryBackstop<W> {
  readonly #options: MemoryBackstopOptions<W>;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;
  #warned = false;
  #baseline = 0;

  constructor(options: MemoryBackstopOptions<W>) {
    this.#options = options;
  }

  /** Records the host's resident memory with its workers ready and idle: what no execution holds. */
  setBaseline(rssBytes: number): void {
    this.#baseline = rssBytes;
  }

  /** Starts sampling (an execution started); it stops by itself once none run. */
  wake(): void {
    if (this.#timer || this.#options.ceilingBytes() <= 0) return;
    this.#timer = setInterval(() => void this.#sample(), this.#options.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #sample(): Promise<void> {
    if (this.#checking) return;
    if (!this.#options.active()) {
      this.stop();
      return;
    }
    const ceiling = this.#options.ceilingBytes();
    if (ceiling <= 0 || this.#options.rss() <= ceiling) {
      this.#warned = false;
      return;
    }
    this.#checking = true;
    try {
      const holdings = await Promise.all(this.#options.workers().map(async (worker) => ({ worker, ...(await this.#options.measure(worker)) })));
      const rss = this.#options.rss();
      if (rss <= ceiling) return;
      const victim = chooseVictim(holdings, rss, this.#baseline, this.#options.minVictimBytes);
      if (victim) {
        await this.#options.end(victim.worker, victim.bytes, rss);
      } else if (!this.#warned) {
        this.#warned = true;
        this.#options.warn(
          `the sandbox host holds ${Math.round(rss / MB)} MB, over its ceiling of ${Math.round(ceiling / MB)} MB, but no worker holds ${Math.round(this.#options.minVictimBytes / MB)} MB or more`,
        );
      }
    } finally {
      this.#checking = false;
    }
  }
}
