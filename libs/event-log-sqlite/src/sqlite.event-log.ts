/**
 * Embedded event log on SQLite (`node:sqlite`): one table of records with a global position,
 * one table of group positions. A consume→produce step commits its outputs and the group's new
 * position in one SQLite transaction, so a crash at any moment neither loses nor repeats it.
 * Consumers in this process are woken on append (in every thread of it with `wakeAcrossThreads`);
 * other processes sharing the file poll.
 *
 * Appends made in one turn of the event loop are committed together, in the order they were
 * made, in one SQLite transaction at the end of the turn (a commit is most of an append's cost);
 * each resolves only once that transaction is committed. When the shared transaction fails, each
 * append of the turn is tried again in a transaction of its own, so one append's error is its own.
 *
 * What a consumer costs per batch is kept small: it is woken only by appends to its own topics,
 * once per turn of the event loop however many appends that turn made, keeps its position in
 * memory, and commits the position of a batch whose handler appended nothing at most every
 * `positionCommitMs` (and when it stops); a batch with outputs commits them with its position at
 * once. A crash may so re-deliver the last such batches: the log is at-least-once, and every
 * consumer skips what it has applied.
 */
import { MetricAttributes, codestepMetrics } from '@codestep/telemetry';
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { BroadcastChannel } from 'node:worker_threads';
import type { ConsumeOptions, ConsumedRecord, EventLog, LogRecord, Subscription } from '@codestep/event-log';

export interface SqliteEventLogOptions {
  /** Database file, or `:memory:`. */
  path: string;
  /** How often a consumer polls when not woken by an append in this process, ms. @default 250 */
  pollIntervalMs?: number;
  /** `FULL` survives power loss; `NORMAL` (WAL) survives process crashes. @default 'NORMAL' */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long a consumer may keep the position of batches that appended nothing before committing it, ms. @default 100 */
  positionCommitMs?: number;
  /**
   * Whether other threads of this process (`worker_threads`: embedded mode's executor) open the same
   * file: the topics each commit appended to are then posted to them (a `BroadcastChannel` per file),
   * so their consumers are woken as this thread's are. @default false
   */
  wakeAcrossThreads?: boolean;
}

const wakers = new Map<string, EventEmitter>();
function wakerFor(path: string): EventEmitter {
  let w = wakers.get(path);
  if (!w) {
    w = new EventEmitter();
    w.setMaxListeners(0);
    wakers.set(path, w);
  }
  return w;
}

/** One channel per file and thread: what it receives wakes this thread's consumers of the file. */
const channels = new Map<string, BroadcastChannel>();
function channelFor(path: string, waker: EventEmitter): BroadcastChannel {
  let c = channels.get(path);
  if (!c) {
    c = new BroadcastChannel(`codestep-event-log:${path}`);
    c.onmessage = (event) => waker.emit('append', new Set((event as { data: string[] }).data));
    c.unref(); // never what keeps a thread alive
    channels.set(path, c);
  }
  return c;
}

interface PendingAppend {
  records: LogRecord[];
  resolve(): void;
  reject(error: unknown): void;
}

interface Row {
  position: number;
  topic: string;
  key: string;
  value: Uint8Array;
  headers: string;
  record_id: string | null;
}

export class SqliteEventLog implements EventLog {
  private readonly db: DatabaseSync;
  private readonly waker: EventEmitter;
  /** Where commits are announced to the other threads (`wakeAcrossThreads`). */
  private readonly channel: BroadcastChannel | undefined;
  private readonly pollIntervalMs: number;
  private readonly positionCommitMs: number;
  private readonly insert: StatementSync;
  private readonly readPosition: StatementSync;
  /** The consumers' fetch statements, prepared once per number of topics (the SQL depends on nothing else). */
  private readonly fetchByTopicCount = new Map<number, StatementSync>();
  private readonly subscriptions = new Set<Subscription>();
  /** Appends of this turn of the event loop, committed together at its end. */
  private pendingAppends: PendingAppend[] = [];
  /** Topics appended to in this turn (by appends or consumers' outputs), their consumers woken at its end. */
  private wakeTopics = new Set<string>();
  private endOfTurnScheduled = false;
  private closed = false;

  constructor(options: SqliteEventLogOptions) {
    const path = options.path === ':memory:' ? options.path : resolve(options.path);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}; PRAGMA busy_timeout = 5000;`);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS records (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, headers TEXT NOT NULL,
        record_id TEXT, appended_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS records_by_topic ON records (topic, position);
      CREATE UNIQUE INDEX IF NOT EXISTS records_by_id ON records (topic, record_id) WHERE record_id IS NOT NULL;
      CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS group_positions (group_id TEXT NOT NULL, topic TEXT NOT NULL, position INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic));`);
    this.insert = this.db.prepare('INSERT OR IGNORE INTO records (topic, key, value, headers, record_id, appended_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.readPosition = this.db.prepare('SELECT position FROM group_positions WHERE group_id = ? AND topic = ?');
    this.waker = wakerFor(path);
    this.channel = options.wakeAcrossThreads && path !== ':memory:' ? channelFor(path, this.waker) : undefined;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.positionCommitMs = options.positionCommitMs ?? 100;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const stmt = this.db.prepare('INSERT OR IGNORE INTO topics (topic) VALUES (?)');
    for (const t of topics) stmt.run(t);
  }

  append(records: LogRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pendingAppends.push({ records, resolve, reject });
      this.atEndOfTurn();
    });
  }

  /** Wakes the consumers of `topics` at the end of this turn, with those of every other append of it. */
  private wakeAtEndOfTurn(topics: Iterable<string>): void {
    for (const t of topics) this.wakeTopics.add(t);
    this.atEndOfTurn();
  }

  private atEndOfTurn(): void {
    if (this.endOfTurnScheduled) return;
    this.endOfTurnScheduled = true;
    setImmediate(() => this.endTurn());
  }

  /** Commits the turn's appends, wakes the consumers of every topic appended to, then resolves the appends. */
  private endTurn(): void {
    this.endOfTurnScheduled = false;
    const committed = this.commitAppends();
    for (const p of committed) for (const r of p.records) this.wakeTopics.add(r.topic);
    if (this.wakeTopics.size > 0) {
      const topics = this.wakeTopics;
      this.wakeTopics = new Set();
      this.waker.emit('append', topics);
      this.channel?.postMessage([...topics]);
    }
    for (const p of committed) p.resolve();
  }

  /** Commits the appends of this turn in one transaction, in order; returns those committed (the others are rejected). */
  private commitAppends(): PendingAppend[] {
    const pending = this.pendingAppends;
    if (pending.length === 0) return [];
    this.pendingAppends = [];
    const committed: PendingAppend[] = [];
    try {
      this.transaction(() => {
        for (const p of pending) this.insertAll(p.records);
      });
      committed.push(...pending);
    } catch {
      for (const p of pending) {
        try {
          this.transaction(() => this.insertAll(p.records));
          committed.push(p);
        } catch (error) {
          p.reject(error);
        }
      }
    }
    return committed;
  }

  private insertAll(records: LogRecord[]): void {
    const now = Date.now();
    for (const r of records) {
      this.insert.run(r.topic, r.key, r.value, JSON.stringify(r.headers), r.id ?? null, now);
    }
  }

  private transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  private positions(group: string, topics: string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of topics) {
      const row = this.readPosition.get(group, t) as { position: number } | undefined;
      out.set(t, row?.position ?? 0);
    }
    return out;
  }

  private fetch(positions: Map<string, number>, limit: number): ConsumedRecord[] {
    const params: Array<string | number> = [];
    for (const [topic, pos] of positions) params.push(topic, pos);
    return (this.fetchStatement(positions.size).all(...params, limit) as unknown as Row[]).map(toConsumed);
  }

  private fetchStatement(topicCount: number): StatementSync {
    let stmt = this.fetchByTopicCount.get(topicCount);
    if (!stmt) {
      const clauses = Array.from({ length: topicCount }, () => '(topic = ? AND position > ?)');
      stmt = this.db.prepare(`SELECT position, topic, key, value, headers, record_id FROM records WHERE ${clauses.join(' OR ')} ORDER BY position LIMIT ?`);
      this.fetchByTopicCount.set(topicCount, stmt);
    }
    return stmt;
  }

  /**
   * The group's lag per topic (docs/metrics.md): 0 when a fetch comes back empty, otherwise
   * counted after a commit at most once a second (a count over the topic's index).
   */
  private lagRecorder(group: string): (positions: Map<string, number>, caughtUp: boolean) => void {
    const countAfter = this.db.prepare('SELECT COUNT(*) AS n FROM records WHERE topic = ? AND position > ?');
    let countedAt = 0;
    let idle = false;
    return (positions: Map<string, number>, caughtUp: boolean) => {
      if (!caughtUp) idle = false; // a batch handled: the next idle spell records 0 again
      if (caughtUp ? idle : Date.now() - countedAt < 1_000) return;
      idle = caughtUp;
      if (!caughtUp) countedAt = Date.now();
      for (const [topic, pos] of positions) {
        const lag = caughtUp ? 0 : (countAfter.get(topic, pos) as { n: number }).n;
        codestepMetrics().consumerLag.record(lag, { [MetricAttributes.consumerGroup]: group, [MetricAttributes.topic]: topic });
      }
    };
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    const batchSize = options.batchSize ?? 100;
    const setPosition = this.db.prepare('INSERT INTO group_positions (group_id, topic, position) VALUES (?, ?, ?) ON CONFLICT (group_id, topic) DO UPDATE SET position = excluded.position');
    let running = true;
    let wake: (() => void) | undefined;
    const mine = new Set(options.topics);
    // Whether this process appended to its topics since its last fetch: when not, and that fetch
    // came back short of a full batch, the next fetch would come back empty and is not made.
    let appendedSinceFetch = true;
    // Woken only by appends to its own topics: every service of embedded mode shares one file.
    const onAppend = (topics: ReadonlySet<string>) => {
      if (![...topics].some((t) => mine.has(t))) return;
      appendedSinceFetch = true;
      wake?.();
    };
    this.waker.on('append', onAppend);

    const recordLag = this.lagRecorder(options.group);

    // The group's position, read once: this member is the one moving it from here on.
    const positions = this.positions(options.group, options.topics);
    let uncommittedSince: number | undefined;
    const commit = (outputs: LogRecord[]) => {
      this.transaction(() => {
        this.insertAll(outputs);
        for (const [topic, pos] of positions) setPosition.run(options.group, topic, pos);
      });
      uncommittedSince = undefined;
    };

    const loop = async () => {
      let backoff = 100;
      let caughtUp = false;
      while (running) {
        if (!caughtUp) appendedSinceFetch = false;
        const batch: ConsumedRecord[] = caughtUp ? [] : this.fetch(positions, batchSize);
        caughtUp = false;
        if (batch.length === 0) {
          recordLag(positions, true); // once per idle spell
          const waitMs = uncommittedSince === undefined ? this.pollIntervalMs : Math.max(0, uncommittedSince + this.positionCommitMs - Date.now());
          const woken = await new Promise<boolean>((r) => {
            const timer = setTimeout(() => r(false), waitMs);
            wake = () => (clearTimeout(timer), r(true));
          });
          wake = undefined;
          if (uncommittedSince !== undefined && (!woken || Date.now() - uncommittedSince >= this.positionCommitMs) && !this.closed) commit([]);
          // Woken once at the end of a turn for everything appended in it (committed together):
          // read at once, so what an append's caller answers (a 202, say) is projected before the
          // next request is read.
          continue;
        }
        let outputs: LogRecord[];
        try {
          outputs = await options.handle(batch);
        } catch (error) {
          options.onError?.(error);
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 5_000);
          continue;
        }
        backoff = 100;
        if (this.closed) return;
        for (const r of batch) positions.set(r.topic, Math.max(positions.get(r.topic) ?? 0, r.offset));
        if (outputs.length > 0 || (uncommittedSince !== undefined && Date.now() - uncommittedSince >= this.positionCommitMs)) {
          commit(outputs);
          if (outputs.length > 0) this.wakeAtEndOfTurn(topicsOf(outputs));
        } else {
          uncommittedSince ??= Date.now();
        }
        recordLag(positions, false);
        // Everything appended when the batch was fetched is handled, and nothing since in this process.
        caughtUp = batch.length < batchSize && !appendedSinceFetch;
      }
      if (uncommittedSince !== undefined && !this.closed) commit([]);
    };
    const done = loop();
    const subscription: Subscription = {
      stop: async () => {
        running = false;
        wake?.();
        this.waker.off('append', onAppend);
        await done;
        this.subscriptions.delete(subscription);
      },
    };
    this.subscriptions.add(subscription);
    return subscription;
  }

  async readAll(topics: string[], handle: (batch: ConsumedRecord[]) => Promise<void>): Promise<number> {
    const end = (this.db.prepare('SELECT COALESCE(MAX(position), 0) AS p FROM records').get() as { p: number }).p;
    const positions = new Map(topics.map((t) => [t, 0]));
    let count = 0;
    for (;;) {
      const batch = this.fetch(positions, 500).filter((r) => r.offset <= end);
      if (batch.length === 0) return count;
      await handle(batch);
      count += batch.length;
      for (const r of batch) positions.set(r.topic, Math.max(positions.get(r.topic) ?? 0, r.offset));
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.endTurn(); // appends made before close are committed, not dropped
    this.closed = true;
    this.db.close();
  }
}

function toConsumed(row: Row): ConsumedRecord {
  return {
    topic: row.topic,
    key: row.key,
    value: row.value,
    headers: JSON.parse(row.headers) as Record<string, string>,
    ...(row.record_id === null ? {} : { id: row.record_id }),
    partition: 0,
    offset: row.position,
  };
}

function topicsOf(records: LogRecord[]): ReadonlySet<string> {
  return new Set(records.map((r) => r.topic));
}
