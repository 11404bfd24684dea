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
 * the end of the turn, in the transaction of the turn's appends (and of other consumers'
 * commits), and the consumer goes on once that is committed. A crash may so re-deliver the last
 * such batches: the log is at-least-once, and every consumer skips what it has applied.
 *
 * Records this log commits are handed to its own consumers that are caught up without being read
 * back: right after each commit, a consumer that has every record of its topics up to the position
 * the commit started from gets the commit's records of its topics, with their committed positions,
 * in log order. What other connections on the file committed (embedded mode's executor thread,
 * another process) the log reads once for all its consumers, `PRAGMA data_version` telling it
 * whether there is anything: at the start of its next commit, under the write lock, so the commit's
 * own records follow on; when another thread announces an append to its consumers' topics; and when
 * an idle consumer polls. So neither thread's consumers each read the file for what the other
 * appended. A consumer that is behind (a backlog, a full batch, a first fetch), or more records of
 * other connections than one read takes, makes the consumer read from SQLite as before; so does a
 * consumer that has more handed than it works through (held at a few batches: memory stays
 * bounded). Nothing is handed before it is committed, so a crash loses nothing a consumer was handed.
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

/** At most this many records appended by other connections are read at once for every consumer of a log. */
const OTHERS_READ_LIMIT = 1_000;

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

/** One channel per file and thread: what it receives makes this thread's logs on the file read what the other threads appended. */
const channels = new Map<string, BroadcastChannel>();
function channelFor(path: string, waker: EventEmitter): BroadcastChannel {
  let c = channels.get(path);
  if (!c) {
    c = new BroadcastChannel(`codestep-event-log:${path}`);
    c.onmessage = (event) => waker.emit('others-appended', (event as { data: string[] }).data);
    c.unref(); // never what keeps a thread alive
    channels.set(path, c);
  }
  return c;
}

/** A consumer of this log, as its commits see it. */
interface Member {
  /** Members of a higher priority are woken first (`ConsumeOptions.priority`). */
  readonly priority: number;
  readonly topics: ReadonlySet<string>;
  /**
   * Called right after each commit of this log that appended something, with the position the
   * commit started after, its last position, and its records (undefined when another writer took
   * positions in between, so the commit's records are not all there is after `after`). Returns
   * whether the member is to be woken at the end of the turn.
   */
  committed(after: number, end: number, records: ConsumedRecord[] | undefined): boolean;
  wake(): void;
}

/** What one transaction appended, as it goes. */
interface Appended {
  after: number;
  end: number;
  /** Whether every position the transaction took follows the one before (no other writer between). */
  contiguous: boolean;
  records: ConsumedRecord[];
}

interface PendingAppend {
  records: LogRecord[];
  /** Writes done in the same transaction (a consumer's new position). */
  alongside?: () => void;
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
  private readonly begin: StatementSync;
  private readonly commitStatement: StatementSync;
  private readonly rollback: StatementSync;
  /** The last position taken as far as this log knows (its own last commit's, or the file's when opened). */
  private end: number;
  private readonly dataVersion: StatementSync;
  private othersVersion = -1;
  private othersEpoch = 0;
  /** `othersCommits()` when this log last read what other connections appended after its `end`. */
  private othersRead = 0;
  /** Reads every record after a position, whatever its topic: what other connections appended, read once for all consumers. */
  private readonly readAfter: StatementSync;
  /** Whether another thread announced an append to a topic of this log's consumers since the end of the last turn. */
  private othersAppended = false;
  private readonly onOthersAppended: ((topics: string[]) => void) | undefined;
  /** This log's consumers, handed what it commits. */
  private readonly members = new Set<Member>();
  /** Members to wake at the end of this turn. */
  private toWake = new Set<Member>();
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
    // A checkpoint (the WAL copied into the file, both synced) every 10,000 pages rather than
    // SQLite's 1,000: a tenth of the syncs, each stalling the commit that runs it (measured with
    // tools/bench/event-log-sqlite.bench.ts: 1.6-2.5x the calls/s, a lower p99). The WAL holds up to
    // ~40 MB between checkpoints; durability is the same (`synchronous` decides it).
    this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'NORMAL'}; PRAGMA busy_timeout = 5000; PRAGMA wal_autocheckpoint = 10000;`);
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
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.dataVersion = this.db.prepare('PRAGMA data_version');
    this.othersRead = this.othersCommits(); // before the end is read: a commit in between is read again
    this.readAfter = this.db.prepare('SELECT position, topic, key, value, headers, record_id FROM records WHERE position > ? ORDER BY position LIMIT ?');
    this.end = (this.db.prepare("SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0), COALESCE((SELECT MAX(position) FROM records), 0)) AS p").get() as { p: number }).p;
    this.waker = wakerFor(path);
    this.channel = options.wakeAcrossThreads && path !== ':memory:' ? channelFor(path, this.waker) : undefined;
    if (this.channel) {
      // What another thread appended to its consumers' topics is read once, at the end of the turn, and handed to them.
      this.onOthersAppended = (topics) => {
        if (this.othersAppended || !topics.some((t) => [...this.members].some((m) => m.topics.has(t)))) return;
        this.othersAppended = true;
        this.atEndOfTurn();
      };
      this.waker.on('others-appended', this.onOthersAppended);
    }
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.positionCommitMs = options.positionCommitMs ?? 100;
  }

  /** A number that changes when another connection has committed to the file since it was last asked (`PRAGMA data_version`). */
  private othersCommits(): number {
    const v = (this.dataVersion.get() as { data_version: number }).data_version;
    if (v !== this.othersVersion) {
      this.othersVersion = v;
      this.othersEpoch++;
    }
    return this.othersEpoch;
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const stmt = this.db.prepare('INSERT OR IGNORE INTO topics (topic) VALUES (?)');
    for (const t of topics) stmt.run(t);
  }

  append(records: LogRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return this.atEndOfTurnCommit(records);
  }

  /** Commits `records` (and `alongside`'s writes) with the other appends of this turn, atomically. */
  private atEndOfTurnCommit(records: LogRecord[], alongside?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingAppends.push({ records, ...(alongside ? { alongside } : {}), resolve, reject });
      this.atEndOfTurn();
    });
  }

  private atEndOfTurn(): void {
    if (this.endOfTurnScheduled) return;
    this.endOfTurnScheduled = true;
    setImmediate(() => this.endTurn());
  }

  /** Commits the turn's appends, wakes the consumers of every topic appended to, then resolves the appends. */
  private endTurn(): void {
    this.endOfTurnScheduled = false;
    if (this.othersAppended) {
      this.othersAppended = false;
      // A commit of this turn reads them under its write lock; without one, a read of its own.
      if (this.pendingAppends.length === 0 && !this.closed) this.readOthers();
    }
    const committed = this.commitAppends();
    for (const p of committed) for (const r of p.records) this.wakeTopics.add(r.topic);
    if (this.toWake.size > 0) {
      const members = [...this.toWake].sort((a, b) => b.priority - a.priority);
      this.toWake = new Set();
      for (const m of members) m.wake();
    }
    if (this.wakeTopics.size > 0) {
      const topics = this.wakeTopics;
      this.wakeTopics = new Set();
      // For the consumers of this file in another thread (they read what they were not handed).
      this.channel?.postMessage([...topics]);
      // For the consumers of other logs on the file in this process (this log's own were handed the records).
      this.waker.emit('append', topics, this);
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
      this.transaction((appended) => {
        for (const p of pending) (this.insertAll(p.records, appended), p.alongside?.());
      });
      committed.push(...pending);
    } catch {
      for (const p of pending) {
        try {
          this.transaction((appended) => (this.insertAll(p.records, appended), p.alongside?.()));
          committed.push(p);
        } catch (error) {
          p.reject(error);
        }
      }
    }
    return committed;
  }

  private insertAll(records: LogRecord[], appended: Appended): void {
    const now = Date.now();
    for (const r of records) {
      const { changes, lastInsertRowid } = this.insert.run(r.topic, r.key, r.value, JSON.stringify(r.headers), r.id ?? null, now);
      if (changes === 0) continue; // a second record with the same id
      const position = Number(lastInsertRowid);
      if (position !== appended.end + 1) appended.contiguous = false;
      appended.end = position;
      appended.records.push({ topic: r.topic, key: r.key, value: r.value, headers: { ...r.headers }, ...(r.id === undefined ? {} : { id: r.id }), partition: 0, offset: position });
    }
  }

  /**
   * Reads what other connections (another thread's log, another process) appended after this log's
   * `end` since it last did, at most `OTHERS_READ_LIMIT` records, into `appended`: once for all of
   * this log's consumers, rather than each of them reading the file. In a transaction (the write
   * lock held) it is all they appended before the transaction's own records, which so follow on.
   * Returns whether it read any. Past the limit, the records after it are left to the consumers to read.
   */
  private readOthersInto(appended: Appended): boolean {
    const others = this.othersCommits();
    if (others === this.othersRead) return false;
    const rows = this.readAfter.all(this.end, OTHERS_READ_LIMIT) as unknown as Row[];
    for (const row of rows) appended.records.push(toConsumed(row));
    if (rows.length > 0) appended.end = rows.at(-1)!.position;
    // Not all read: the next transaction's records do not follow on, and its consumers read from the file.
    if (rows.length < OTHERS_READ_LIMIT) this.othersRead = others;
    return rows.length > 0;
  }

  /** Outside a transaction: reads what other connections appended and hands it to this log's consumers. */
  private readOthers(): void {
    const appended: Appended = { after: this.end, end: this.end, contiguous: true, records: [] };
    if (!this.readOthersInto(appended)) return;
    this.end = appended.end;
    for (const m of this.members) if (m.committed(appended.after, appended.end, appended.records)) this.toWake.add(m);
  }

  /** Runs `fn` in a write transaction; once committed, hands what it appended (and what others appended before it) to this log's consumers. */
  private transaction<T>(fn: (appended: Appended) => T): T {
    this.begin.run();
    const appended: Appended = { after: this.end, end: this.end, contiguous: true, records: [] };
    const othersRead = this.othersRead;
    let result: T;
    try {
      this.readOthersInto(appended);
      result = fn(appended);
      this.commitStatement.run();
    } catch (error) {
      this.rollback.run();
      this.othersRead = othersRead; // read again by the next transaction
      throw error;
    }
    if (appended.records.length > 0) {
      this.end = appended.end;
      const records = appended.contiguous ? appended.records : undefined;
      for (const m of this.members) if (m.committed(appended.after, appended.end, records)) this.toWake.add(m);
    }
    return result;
  }

  private positions(group: string, topics: string[]): Map<string, number> {
    const out = new Map<string, number>();
    for (const t of topics) {
      const row = this.readPosition.get(group, t) as { position: number } | undefined;
      out.set(t, row?.position ?? 0);
    }
    return out;
  }

  /**
   * The records after `positions` (per topic), in log order, at most `limit`. `after` is a
   * position up to which the reader has every record of its topics: the read starts at the
   * higher of it and the lowest of `positions`, over the records' primary key, so it does not
   * scan the records before it (a topic written long ago would otherwise make every read start
   * there, and `OR` over the topics made SQLite scan the whole table).
   */
  private fetch(positions: Map<string, number>, limit: number, after = 0): ConsumedRecord[] {
    const params: Array<string | number> = [];
    let from = Infinity;
    for (const [topic, pos] of positions) {
      params.push(topic, pos);
      from = Math.min(from, pos);
    }
    return (this.fetchStatement(positions.size).all(Math.max(from, after), ...params, limit) as unknown as Row[]).map(toConsumed);
  }

  private fetchStatement(topicCount: number): StatementSync {
    let stmt = this.fetchByTopicCount.get(topicCount);
    if (!stmt) {
      const clauses = Array.from({ length: topicCount }, () => '(topic = ? AND position > ?)');
      stmt = this.db.prepare(`SELECT position, topic, key, value, headers, record_id FROM records WHERE position > ? AND (${clauses.join(' OR ')}) ORDER BY position LIMIT ?`);
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

  /** A consumer's member of this log: what its commits hand it, what it reads after `positions`. */
  private intake(options: ConsumeOptions, batchSize: number, positions: Map<string, number>): Intake {
    const intake = new Intake({
      topics: new Set(options.topics),
      priority: options.priority ?? 0,
      batchSize,
      pollIntervalMs: this.pollIntervalMs,
      end: () => this.end,
      poll: () => {
        this.readOthers();
        if (this.toWake.size > 0) this.atEndOfTurn();
      },
      fetch: (limit, after) => this.fetch(positions, limit, after),
    });
    this.members.add(intake);
    return intake;
  }

  async consume(options: ConsumeOptions): Promise<Subscription> {
    const batchSize = options.batchSize ?? 100;
    const setPosition = this.db.prepare('INSERT INTO group_positions (group_id, topic, position) VALUES (?, ?, ?) ON CONFLICT (group_id, topic) DO UPDATE SET position = excluded.position');
    let running = true;
    // The group's position, read once: this member is the one moving it from here on.
    const positions = this.positions(options.group, options.topics);
    const intake = this.intake(options, batchSize, positions);
    // Woken by appends to its own topics by other logs on the file in this process (this log's
    // own commits are handed to it): every service of embedded mode shares one file.
    const onAppend = (topics: ReadonlySet<string>, from?: SqliteEventLog) => {
      if (from !== this && [...topics].some((t) => intake.topics.has(t))) intake.mustRead();
    };
    this.waker.on('append', onAppend);

    const recordLag = this.lagRecorder(options.group);
    const committedPositions = new Map(positions);
    let uncommittedSince: number | undefined;
    // Outputs and position are committed with the appends of the turn (one transaction), and the
    // member goes on once they are.
    const commit = async (outputs: LogRecord[]) => {
      const moved = [...positions].filter(([topic, pos]) => committedPositions.get(topic) !== pos);
      await this.atEndOfTurnCommit(outputs, () => {
        for (const [topic, pos] of moved) setPosition.run(options.group, topic, pos);
      });
      for (const [topic, pos] of moved) committedPositions.set(topic, pos);
      uncommittedSince = undefined;
    };

    // Back-offs (after a failed handler or commit) are cut short by `stop()`.
    const backoffs = pauses();
    const commitOrRetry = (outputs: LogRecord[]) => retried(() => commit(outputs), { onError: options.onError, running: () => running && !this.closed, pause: backoffs.pause });
    // A commit that failed as the member stops: the positions of the batches since the last commit
    // (the failed batch's among them) are dropped, never committed without its outputs by a later
    // commit, and those batches are delivered again to the group's next member.
    const uncommit = () => committedPositions.forEach((pos, topic) => positions.set(topic, pos));

    const loop = async () => {
      let backoff = 100;
      while (running) {
        const batch = intake.next();
        if (batch.length === 0) {
          recordLag(positions, true); // once per idle spell
          const waitMs = uncommittedSince === undefined ? this.pollIntervalMs : Math.max(0, uncommittedSince + this.positionCommitMs - Date.now());
          const woken = await intake.wait(waitMs);
          if (uncommittedSince !== undefined && (!woken || Date.now() - uncommittedSince >= this.positionCommitMs) && !this.closed && !(await commitOrRetry([]))) return uncommit();
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
          intake.redeliver(batch);
          await backoffs.pause(backoff);
          backoff = Math.min(backoff * 2, 5_000);
          continue;
        }
        backoff = 100;
        if (this.closed) return;
        for (const r of batch) positions.set(r.topic, Math.max(positions.get(r.topic) ?? 0, r.offset));
        if (outputs.length > 0 || (uncommittedSince !== undefined && Date.now() - uncommittedSince >= this.positionCommitMs)) {
          if (!(await commitOrRetry(outputs))) return uncommit();
        } else {
          uncommittedSince ??= Date.now();
        }
        recordLag(positions, false);
      }
      if (uncommittedSince !== undefined && !this.closed) await commitOrRetry([]);
    };
    const done = loop();
    const subscription: Subscription = {
      stop: async () => {
        running = false;
        intake.wake();
        backoffs.cut();
        this.waker.off('append', onAppend);
        await done;
        this.members.delete(intake);
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
    let after = 0;
    for (;;) {
      const batch = this.fetch(positions, 500, after).filter((r) => r.offset <= end);
      if (batch.length === 0) return count;
      await handle(batch);
      count += batch.length;
      after = batch.at(-1)!.offset;
      for (const r of batch) positions.set(r.topic, Math.max(positions.get(r.topic) ?? 0, r.offset));
    }
  }

  async close(): Promise<void> {
    if (this.onOthersAppended) this.waker.off('others-appended', this.onOthersAppended);
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.endTurn(); // appends made before close are committed, not dropped
    this.closed = true;
    this.db.close();
  }
}

/** Pauses that `cut()` ends at once (a consumer's back-off, when it stops). */
function pauses(): { pause(ms: number): Promise<void>; cut(): void } {
  let end: (() => void) | undefined;
  return {
    pause: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => end?.(), ms);
        end = () => ((end = undefined), clearTimeout(timer), resolve());
      }),
    cut: () => end?.(),
  };
}

/**
 * A consumer's commit, tried again after a back-off while it fails (its own transaction too, after
 * the turn's shared one), each error reported to `onError`; the member takes nothing new
 * meanwhile, so a batch's outputs are never dropped while it runs. Once it is no longer running
 * (stopping), a failed attempt is the last and it returns false: its positions stay uncommitted
 * (the member commits nothing more) and the batches since the last commit are delivered again to
 * the group's next member (the log is at-least-once).
 */
async function retried(commit: () => Promise<void>, o: { onError?: ((error: unknown) => void) | undefined; running: () => boolean; pause: (ms: number) => Promise<void> }): Promise<boolean> {
  for (let backoff = 100; ; backoff = Math.min(backoff * 2, 5_000)) {
    try {
      return (await commit(), true);
    } catch (error) {
      o.onError?.(error);
      if (!o.running()) return false;
      await o.pause(backoff);
    }
  }
}

/**
 * What a consumer has of the log. Unless it must read, every record of its topics up to `horizon`
 * is handled or in `handed` (in log order), and the records this log commits after it are handed
 * to it. It reads from SQLite at first, after a full batch, after a commit it could not be
 * handed, and when another log of this thread appended to its topics. What other connections
 * append (another thread's log, another process) the log reads once for all its consumers and
 * hands them: under the write lock of its next commit, when another thread announces it, and when
 * a consumer polls (every `pollIntervalMs` of idleness).
 */
class Intake implements Member {
  private reading = true;
  private horizon = 0;
  private readAt = 0;
  private readonly handed: ConsumedRecord[] = [];
  private waiting: ((woken: boolean) => void) | undefined;

  readonly topics: ReadonlySet<string>;
  readonly priority: number;
  private readonly batchSize: number;
  /** How many records it holds handed at most; past that it reads them when it gets to them. */
  private readonly maxHanded: number;
  private readonly pollIntervalMs: number;
  /** The log's last position: a read short of a full batch has all up to it. */
  private readonly end: () => number;
  /** Reads after the group's positions, from `after` on. */
  private readonly fetch: (limit: number, after: number) => ConsumedRecord[];
  /** Has the log read what other connections appended since it last did, and hand it to its consumers. */
  private readonly poll: () => void;

  constructor(options: {
    topics: ReadonlySet<string>;
    priority: number;
    batchSize: number;
    pollIntervalMs: number;
    end: () => number;
    poll: () => void;
    fetch: (limit: number, after: number) => ConsumedRecord[];
  }) {
    this.poll = options.poll;
    this.topics = options.topics;
    this.priority = options.priority;
    this.batchSize = options.batchSize;
    this.maxHanded = Math.max(1_000, 4 * options.batchSize);
    this.pollIntervalMs = options.pollIntervalMs;
    this.end = options.end;
    this.fetch = options.fetch;
  }

  committed(after: number, end: number, records: ConsumedRecord[] | undefined): boolean {
    if (this.reading || records === undefined || this.horizon !== after || this.handed.length >= this.maxHanded) {
      this.reading = true;
      return records === undefined || records.some((r) => this.topics.has(r.topic));
    }
    this.horizon = end;
    let any = false;
    for (const r of records) if (this.topics.has(r.topic)) (this.handed.push(r), (any = true));
    return any;
  }

  /** Reads from SQLite next (woken if waiting). */
  mustRead(): void {
    this.reading = true;
    this.wake();
  }

  wake(): void {
    this.waiting?.(true);
  }

  /** The next batch: what was handed first, else what a read finds when one is due, else nothing. */
  next(): ConsumedRecord[] {
    if (!this.reading && this.handed.length === 0 && Date.now() - this.readAt >= this.pollIntervalMs) {
      // A poll: the log reads what other connections appended since it last did (when they did) and hands it.
      this.readAt = Date.now();
      this.poll();
    }
    if (this.handed.length > 0) return this.handed.length <= this.batchSize ? this.handed.splice(0) : this.handed.splice(0, this.batchSize);
    if (!this.reading) return [];
    const upTo = this.end();
    const batch = this.fetch(this.batchSize, this.horizon);
    this.readAt = Date.now();
    this.reading = batch.length === this.batchSize;
    // A full batch has every record of the topics up to its last (it is handled or handed again
    // before the next read), a short one every record up to the end.
    this.horizon = this.reading ? batch.at(-1)!.offset : Math.max(upTo, batch.at(-1)?.offset ?? 0);
    return batch;
  }

  /** Delivers `batch` again, before anything handed since. */
  redeliver(batch: ConsumedRecord[]): void {
    this.handed.unshift(...batch);
  }

  /** Resolves when woken (true) or after `ms` (false). */
  wait(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => ((this.waiting = undefined), resolve(false)), ms);
      this.waiting = (woken) => ((this.waiting = undefined), clearTimeout(timer), resolve(woken));
    });
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
