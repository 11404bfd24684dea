/**
 * Embedded document store on SQLite (`node:sqlite`): one table per collection holding the
 * document as JSON, with expression indexes on the fields the collection declares.
 *
 * Cost per operation matters here (embedded mode runs every service's projections and state in
 * one process): each collection's single-document statements are prepared once and kept with it,
 * and a write of one document is one statement in SQLite's own implicit transaction. A commit
 * (the WAL frames it writes, the locks it takes) costs several times the statement itself, so an
 * explicit transaction is opened only for a batch of several writes.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { DocumentStore, IndexSpec, Query, StoredDoc, VersionedWrite } from '@codestep/store';

export interface SqliteStoreOptions {
  path: string;
}

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
function ident(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid collection or field name: ${JSON.stringify(name)}`);
  return name;
}

/** The statements of one collection that name one document, prepared when it is first used. */
interface CollectionStatements {
  table: string;
  get: StatementSync;
  insertIfAbsent: StatementSync;
  writeVersioned: StatementSync;
  compareAndSet: StatementSync;
  put: StatementSync;
  delete: StatementSync;
}

export class SqliteStore implements DocumentStore {
  private readonly db: DatabaseSync;
  private readonly collections = new Map<string, CollectionStatements>();
  /** Statements of other shapes (`getMany`, `find`) prepared once per SQL text (SQLite re-prepares them itself after a schema change). */
  private readonly statements = new Map<string, StatementSync>();
  private readonly begin: StatementSync;
  private readonly commit: StatementSync;
  private readonly rollback: StatementSync;

  constructor(options: SqliteStoreOptions) {
    const path = options.path === ':memory:' ? options.path : resolve(options.path);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
  }

  private prepare(sql: string): StatementSync {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      // Bounded: `getMany` and `find` make SQL of a few shapes each, but never cache without limit.
      if (this.statements.size >= 512) this.statements.clear();
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  /** The collection's table (created if missing) and its single-document statements. */
  private of(collection: string): CollectionStatements {
    let c = this.collections.get(collection);
    if (!c) {
      const t = `c_${ident(collection)}`;
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL)`);
      c = {
        table: t,
        get: this.db.prepare(`SELECT id, version, doc FROM ${t} WHERE id = ?`),
        insertIfAbsent: this.db.prepare(`INSERT OR IGNORE INTO ${t} (id, version, doc) VALUES (?, 1, ?)`),
        writeVersioned: this.db.prepare(
          `INSERT INTO ${t} (id, version, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, doc = excluded.doc WHERE excluded.version > version`,
        ),
        compareAndSet: this.db.prepare(`UPDATE ${t} SET version = version + 1, doc = ? WHERE id = ? AND version = ?`),
        put: this.db.prepare(`INSERT INTO ${t} (id, version, doc) VALUES (?, 1, ?) ON CONFLICT (id) DO UPDATE SET version = version + 1, doc = excluded.doc`),
        delete: this.db.prepare(`DELETE FROM ${t} WHERE id = ?`),
      };
      this.collections.set(collection, c);
    }
    return c;
  }

  private table(collection: string): string {
    return this.of(collection).table;
  }

  async ensureCollection(collection: string, indexes: IndexSpec[]): Promise<void> {
    const t = this.table(collection);
    for (const index of indexes) {
      const cols = index.fields.map((f) => `json_extract(doc, '$.${ident(f)}')`).join(', ');
      const name = `${t}_${index.fields.map(ident).join('_')}`;
      this.db.exec(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${name} ON ${t} (${cols})`);
    }
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | null> {
    const row = this.of(collection).get.get(id) as RawRow | undefined;
    return row ? parse<T>(row) : null;
  }

  async getMany<T>(collection: string, ids: string[]): Promise<Map<string, StoredDoc<T>>> {
    const out = new Map<string, StoredDoc<T>>();
    if (ids.length === 0) return out;
    const t = this.table(collection);
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = this.prepare(`SELECT id, version, doc FROM ${t} WHERE id IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as unknown as RawRow[];
      for (const row of rows) out.set(row.id, parse<T>(row));
    }
    return out;
  }

  async find<T>(collection: string, query: Query): Promise<Array<StoredDoc<T>>> {
    const t = this.table(collection);
    const where: string[] = [];
    const params: Array<string | number | null> = [];
    for (const [field, value] of Object.entries(query.where ?? {})) {
      if (value === null) {
        where.push(`json_extract(doc, '$.${ident(field)}') IS NULL`);
      } else {
        where.push(`json_extract(doc, '$.${ident(field)}') = ?`);
        params.push(typeof value === 'boolean' ? Number(value) : value);
      }
    }
    const range = query.range;
    if (range) {
      const column = `json_extract(doc, '$.${ident(range.field)}')`;
      if (range.gte === undefined && range.lt === undefined) where.push(`${column} IS NOT NULL`);
      if (range.gte !== undefined) {
        where.push(`${column} >= ?`);
        params.push(range.gte);
      }
      if (range.lt !== undefined) {
        where.push(`${column} < ?`);
        params.push(range.lt);
      }
    }
    let sql = `SELECT id, version, doc FROM ${t}`;
    if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
    if (query.orderBy) {
      const direction = query.orderBy.direction === 'desc' ? 'DESC' : 'ASC';
      sql += ` ORDER BY json_extract(doc, '$.${ident(query.orderBy.field)}') ${direction}, id ${direction}`;
    }
    if (query.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    return (this.prepare(sql).all(...params) as unknown as RawRow[]).map((r) => parse<T>(r));
  }

  async writeVersioned<T>(collection: string, writes: Array<VersionedWrite<T>>): Promise<void> {
    if (writes.length === 0) return;
    const stmt = this.of(collection).writeVersioned;
    if (writes.length === 1) {
      const w = writes[0]!;
      stmt.run(w.id, w.version, JSON.stringify(w.doc));
      return;
    }
    this.tx(() => {
      for (const w of writes) stmt.run(w.id, w.version, JSON.stringify(w.doc));
    });
  }

  async insertIfAbsent<T>(collection: string, id: string, doc: T): Promise<boolean> {
    const r = this.of(collection).insertIfAbsent.run(id, JSON.stringify(doc));
    return Number(r.changes) === 1;
  }

  async compareAndSet<T>(collection: string, id: string, expectedVersion: number, doc: T): Promise<boolean> {
    if (expectedVersion === 0) return this.insertIfAbsent(collection, id, doc);
    const r = this.of(collection).compareAndSet.run(JSON.stringify(doc), id, expectedVersion);
    return Number(r.changes) === 1;
  }

  async put<T>(collection: string, id: string, doc: T): Promise<void> {
    this.of(collection).put.run(id, JSON.stringify(doc));
  }

  async delete(collection: string, id: string): Promise<boolean> {
    return Number(this.of(collection).delete.run(id).changes) === 1;
  }

  async clear(collection: string): Promise<void> {
    this.db.exec(`DELETE FROM ${this.table(collection)}`);
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private tx(fn: () => void): void {
    this.begin.run();
    try {
      fn();
      this.commit.run();
    } catch (error) {
      this.rollback.run();
      throw error;
    }
  }
}

interface RawRow {
  id: string;
  version: number;
  doc: string;
}
function parse<T>(row: RawRow): StoredDoc<T> {
  return { id: row.id, version: row.version, doc: JSON.parse(row.doc) as T };
}
