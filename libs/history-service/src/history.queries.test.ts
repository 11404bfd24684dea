import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { historyV1 } from '@codestep/contracts';
import { NotFoundError } from '@codestep/core';
import type { ConsumedRecord } from '@codestep/event-log';
import { Topics, envelope, toRecord, type EventBody } from '@codestep/events';
import type { ExecutionConsoleDoc, LogLineView } from '@codestep/history';
import { tenantScoped } from '@codestep/store';
import { SqliteStore } from '@codestep/store-sqlite';
import { CONSOLE_PAGE_LIMITS } from './console-lines.paging.ts';
import { HISTORY_COLLECTIONS, applyToHistory, ensureHistoryCollections } from './history-views.projection.ts';
import { createHistoryQueries } from './history.queries.ts';

const dir = mkdtempSync(join(tmpdir(), 'history-queries-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let offset = 0;
const record = (topic: string, tenantId: string, aggregateId: string, body: EventBody): ConsumedRecord => ({
  ...toRecord(envelope({ eventId: `e${offset}`, tenantId, aggregateId, correlationId: aggregateId, occurredAt: 1000 + offset }, body)),
  topic,
  partition: 0,
  offset: offset++,
});
const started = (tenantId: string, enrollmentId: string, workflowId: string, objectId = '1') =>
  record(Topics.enrollments, tenantId, enrollmentId, {
    $case: 'enrollmentStarted',
    value: { enrollmentId, workflowId, workflowVersion: 1, object: { objectType: 'CONTACT', objectId, properties: {} }, actionCount: 1, trigger: undefined },
  });
const failed = (tenantId: string, enrollmentId: string) =>
  record(Topics.enrollments, tenantId, enrollmentId, {
    $case: 'enrollmentFailed',
    value: { enrollmentId, failedActionId: 'a0', error: { code: 'ACTION_FAILED', message: 'boom', retryable: false, retryAfterMs: 0 } },
  });
const noFilter = { workflowId: '', status: '', objectId: '', startedAfter: 0, startedBefore: 0, afterStartedAt: 0, afterEnrollmentId: '' };

const requested = (tenantId: string, enrollmentId: string, executionId: string, stepIndex: number) =>
  record(Topics.actions, tenantId, executionId, {
    $case: 'actionRequested',
    value: {
      executionId,
      context: {
        enrollmentId,
        workflowId: 'wf',
        workflowVersion: 1,
        stepIndex,
        actionId: `a${stepIndex}`,
        attempt: 1,
        object: undefined,
        priorOutputs: {},
        firstAttemptAt: 0,
        trigger: undefined,
        limits: undefined,
        step: undefined,
      },
      inputFields: {},
      callbackId: '',
      limits: undefined,
    },
  });

/** Console lines stored as an older version wrote them: as many as it liked, as long as it liked. */
async function storeLines(store: SqliteStore, tenantId: string, enrollmentId: string, executionId: string, lines: LogLineView[]): Promise<void> {
  await tenantScoped(store, tenantId).put<ExecutionConsoleDoc>(HISTORY_COLLECTIONS.consoleLines, executionId, { tenantId, executionId, enrollmentId, lines, truncated: false, eventIds: [] });
}

const MAX_GRPC_MESSAGE_BYTES = 8 * 1024 * 1024;

describe('history queries', () => {
  it('reads back an enrollment whose executions stored huge console output, each with a bounded first page and the count', async () => {
    const store = new SqliteStore({ path: join(dir, 'huge.db') });
    await ensureHistoryCollections(store);
    await applyToHistory(store, [started('tA', 'enrH', 'wf'), ...[0, 1, 2].map((i) => requested('tA', 'enrH', `x${i}`, i))]);
    const warning = (i: number): LogLineView => ({ level: 'warn', message: `output "field_${i}" is not declared in the action's outputs and was dropped`, at: i });
    for (const i of [0, 1])
      await storeLines(
        store,
        'tA',
        'enrH',
        `x${i}`,
        Array.from({ length: 150_000 }, (_, j) => warning(j)),
      );
    await storeLines(store, 'tA', 'enrH', 'x2', [{ level: 'log', message: 'y'.repeat(3_000_000), at: 1 }]);
    const queries = createHistoryQueries(store);
    const view = await queries.getEnrollment({ tenantId: 'tA', enrollmentId: 'enrH' });
    const bytes = historyV1.EnrollmentView.encode(view).finish().length;
    assert.ok(bytes < CONSOLE_PAGE_LIMITS.enrollmentBytes + 64 * 1024, `the enrollment is ${bytes} bytes`);
    assert.ok(bytes < MAX_GRPC_MESSAGE_BYTES / 4);
    const [x0, x1, x2] = view.executions;
    assert.equal(x0!.logsTotal, 150_000);
    assert.equal(x0!.logsOffset, 0);
    assert.equal(x0!.logs.length, CONSOLE_PAGE_LIMITS.enrollmentLinesPerExecution);
    assert.deepEqual(x0!.logs[0], warning(0));
    assert.equal(x1!.logsTotal, 150_000);
    assert.equal(x2!.logsTotal, 1);
    assert.equal(x2!.logs[0]!.message.length < 9000, true, 'a stored line of 3,000,000 characters is cut when read');
    assert.match(x2!.logs[0]!.message, /\[line truncated: 3000000 characters\]$/);
    await store.close();
  });

  it('pages through the console lines of one execution with lines_after and limit until every line was read once', async () => {
    const store = new SqliteStore({ path: join(dir, 'pages.db') });
    await ensureHistoryCollections(store);
    await applyToHistory(store, [started('tA', 'enrP', 'wf'), requested('tA', 'enrP', 'xp', 0)]);
    const stored = Array.from({ length: 5_000 }, (_, i) => ({ level: 'log', message: `${i} ${'z'.repeat(1_000)}`, at: i }));
    await storeLines(store, 'tA', 'enrP', 'xp', stored);
    const queries = createHistoryQueries(store);
    const read: LogLineView[] = [];
    let pages = 0;
    for (let after = 0; ; pages++) {
      const page = await queries.getExecution({ tenantId: 'tA', executionId: 'xp', linesAfter: after, limit: 0 });
      assert.ok(historyV1.ExecutionView.encode(page).finish().length <= CONSOLE_PAGE_LIMITS.pageBytes + 4096);
      assert.equal(page.logsOffset, after);
      assert.equal(page.logsTotal, 5_000);
      read.push(...page.logs);
      after = page.logsOffset + page.logs.length;
      if (after >= page.logsTotal) break;
      assert.ok(page.logs.length > 0, 'every page makes progress');
    }
    assert.deepEqual(read, stored);
    assert.ok(pages >= 4, `${pages + 1} pages`);
    const small = await queries.getExecution({ tenantId: 'tA', executionId: 'xp', linesAfter: 4_998, limit: 10 });
    assert.deepEqual(small.logs, stored.slice(4_998));
    const beyond = await queries.getExecution({ tenantId: 'tA', executionId: 'xp', linesAfter: 9_999, limit: 10 });
    assert.deepEqual([beyond.logs.length, beyond.logsOffset], [0, 5_000]);
    await store.close();
  });

  it("answers a tenant with its own enrollments only, and another tenant's id as not found", async () => {
    const store = new SqliteStore({ path: join(dir, 'a.db') });
    await ensureHistoryCollections(store);
    // Two tenants happen to use the same enrollment id: each sees its own.
    await applyToHistory(store, [started('tA', 'enr1', 'wfA'), started('tB', 'enr1', 'wfB'), started('tA', 'enr2', 'wfA')]);
    const queries = createHistoryQueries(store);
    assert.equal((await queries.getEnrollment({ tenantId: 'tA', enrollmentId: 'enr1' })).workflowId, 'wfA');
    assert.equal((await queries.getEnrollment({ tenantId: 'tB', enrollmentId: 'enr1' })).workflowId, 'wfB');
    await assert.rejects(queries.getEnrollment({ tenantId: 'tB', enrollmentId: 'enr2' }), NotFoundError);
    const listed = await queries.listEnrollments({ ...noFilter, tenantId: 'tA', limit: 10 });
    assert.deepEqual(listed.enrollments.map((e) => e.enrollmentId).sort(), ['enr1', 'enr2']);
    await assert.rejects(queries.listEnrollments({ ...noFilter, tenantId: '', limit: 10 }), /tenant_id is required/);
    await store.close();
  });

  it('lists the newest first, filtered by workflow, status, object id and a time range together', async () => {
    const store = new SqliteStore({ path: join(dir, 'filters.db') });
    await ensureHistoryCollections(store);
    const base = offset;
    // Started at 1000 + offset: e0 … e5 one millisecond apart, then e2 and e4 fail.
    await applyToHistory(store, [
      started('tA', 'e0', 'wf1', '901'),
      started('tA', 'e1', 'wf1', '902'),
      started('tA', 'e2', 'wf1', '901'),
      started('tA', 'e3', 'wf2', '901'),
      started('tA', 'e4', 'wf1', '901'),
      started('tB', 'e5', 'wf1', '901'),
      failed('tA', 'e2'),
      failed('tA', 'e4'),
    ]);
    const queries = createHistoryQueries(store);
    const ids = async (filter: Partial<typeof noFilter> & { limit?: number }) =>
      (await queries.listEnrollments({ ...noFilter, tenantId: 'tA', limit: 50, ...filter })).enrollments.map((e) => e.enrollmentId);
    const at = (i: number) => 1000 + base + i;
    assert.deepEqual(await ids({}), ['e4', 'e3', 'e2', 'e1', 'e0']);
    assert.deepEqual(await ids({ objectId: '901' }), ['e4', 'e3', 'e2', 'e0']);
    assert.deepEqual(await ids({ objectId: '901', workflowId: 'wf1' }), ['e4', 'e2', 'e0']);
    assert.deepEqual(await ids({ objectId: '901', workflowId: 'wf1', status: 'failed' }), ['e4', 'e2']);
    assert.deepEqual(await ids({ startedAfter: at(1), startedBefore: at(4) }), ['e3', 'e2', 'e1'], 'after is inclusive, before exclusive');
    assert.deepEqual(await ids({ workflowId: 'wf1', startedAfter: at(2) }), ['e4', 'e2']);
    assert.deepEqual(await ids({ workflowId: 'wf1', startedBefore: at(2) }), ['e1', 'e0']);
    assert.deepEqual(await ids({ startedBefore: at(4), limit: 2 }), ['e3', 'e2'], 'a page older than a time');
    assert.deepEqual(await ids({ objectId: 'nobody' }), []);
    await assert.rejects(queries.listEnrollments({ ...noFilter, tenantId: 'tA', limit: 5, startedAfter: at(3), startedBefore: at(3) }), /startedAfter must be before startedBefore/);
    await store.close();
  });

  it('pages with a keyset cursor through equal start times, with any filter, losing and repeating none', async () => {
    const store = new SqliteStore({ path: join(dir, 'keyset.db') });
    await ensureHistoryCollections(store);
    // 23 enrollments over 4 start times (ties of up to 8), mixed workflows and statuses.
    const startedAtTime = (enrollmentId: string, workflowId: string, at: number) => ({
      ...started('tK', enrollmentId, workflowId),
      ...toRecord(
        envelope(
          { eventId: `k-${enrollmentId}`, tenantId: 'tK', aggregateId: enrollmentId, correlationId: enrollmentId, occurredAt: at },
          {
            $case: 'enrollmentStarted',
            value: { enrollmentId, workflowId, workflowVersion: 1, object: { objectType: 'CONTACT', objectId: '7', properties: {} }, actionCount: 1, trigger: undefined },
          },
        ),
      ),
    });
    const all = Array.from({ length: 23 }, (_, i) => ({ id: `k${String((i * 7) % 23).padStart(2, '0')}`, wf: i % 3 ? 'wfK' : 'wfL', at: 5000 + (i % 4) * 10 }));
    await applyToHistory(store, [...all.map((e) => startedAtTime(e.id, e.wf, e.at)), ...all.filter((_, i) => i % 2).map((e) => failed('tK', e.id))]);
    const queries = createHistoryQueries(store);
    const walk = async (filter: Partial<typeof noFilter>, limit: number) => {
      const seen: string[] = [];
      let cursor = { afterStartedAt: 0, afterEnrollmentId: '' };
      for (let pages = 0; pages < 50; pages++) {
        const page = await queries.listEnrollments({ ...noFilter, tenantId: 'tK', limit, ...filter, ...cursor });
        seen.push(...page.enrollments.map((e) => e.enrollmentId));
        const last = page.enrollments.at(-1);
        if (!page.more || !last) return seen;
        assert.equal(page.enrollments.length, limit, 'a page that is not the last is full');
        cursor = { afterStartedAt: last.startedAt, afterEnrollmentId: last.enrollmentId };
      }
      throw new Error('paging never ended');
    };
    const whole = async (filter: Partial<typeof noFilter>) => (await queries.listEnrollments({ ...noFilter, tenantId: 'tK', limit: 5000, ...filter })).enrollments.map((e) => e.enrollmentId);
    const filters: Array<Partial<typeof noFilter>> = [
      {},
      { workflowId: 'wfK' },
      { status: 'failed' },
      { workflowId: 'wfK', status: 'running' },
      { objectId: '7' },
      { startedAfter: 5010, startedBefore: 5030 },
    ];
    for (const filter of filters) {
      const expected = await whole(filter);
      assert.ok(expected.length > 3, `the filter ${JSON.stringify(filter)} matches several`);
      for (const limit of [1, 2, 3, 5, 8]) {
        const seen = await walk(filter, limit);
        assert.deepEqual(seen, expected, `filter ${JSON.stringify(filter)}, pages of ${limit}: every enrollment once, in order`);
      }
    }
    const everything = await whole({});
    assert.equal(everything.length, 23);
    const newest = (await queries.listEnrollments({ ...noFilter, tenantId: 'tK', limit: 1 })).enrollments[0]!;
    const fromNewest = { afterStartedAt: newest.startedAt, afterEnrollmentId: newest.enrollmentId };
    assert.deepEqual(
      (await queries.listEnrollments({ ...noFilter, tenantId: 'tK', limit: 50, startedBefore: 5020, ...fromNewest })).enrollments.map((e) => e.enrollmentId),
      await whole({ startedBefore: 5020 }),
      'after a cursor newer than the range: the whole range',
    );
    assert.deepEqual(
      (await queries.listEnrollments({ ...noFilter, tenantId: 'tK', limit: 50 })).enrollments.map((e) => e.startedAt),
      [...all.map((e) => e.at)].sort((a, b) => b - a),
      'newest first',
    );
    await store.close();
  });
});
