/**
 * The console's logic that runs without a browser: the API's refusals put on their field and line,
 * the editor's form to and from the API's JSON, the URLs, and the drafts kept across reloads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWorkflowInput, actionToInput, unifiedDiff } from '@codestep/workflows';
import { failureLine, sampleTestBody, testRequestBody } from './web/lib/action-test.ts';
import { apiErrorOf, errorLocation, fieldOfMessage } from './web/lib/api-errors.ts';
import { clearDraft, loadDraft, saveDraft, type KeyValueStore } from './web/lib/drafts.ts';
import { hrefOf, parseLocation, type View } from './web/lib/routes.ts';
import { hoursAgo, isoToLocal, listQuery, localToIso, takePage, type HistoryFilters, type PageCursor } from './web/lib/history-query.ts';
import { sideBySide, type SideRow } from './web/lib/side-by-side.ts';
import { loadTraceTemplate, saveTraceTemplate, traceUrl } from './web/lib/trace-url.ts';
import { earlierOutputs, emptyAction, emptySchedule, emptyWorkflow, fromApi, toApiBody, type WorkflowForm } from './web/lib/workflow-form.ts';

describe("the API's refusals", () => {
  it("takes the API's code and message, and says something plain when the body has none", () => {
    assert.deepEqual(apiErrorOf(400, { error: { code: 'INVALID_ARGUMENT', message: 'name: is required' } }, ''), { code: 'INVALID_ARGUMENT', message: 'name: is required' });
    assert.deepEqual(apiErrorOf(401, undefined, ''), { code: 'UNAUTHENTICATED', message: 'The API key was refused.' });
    assert.deepEqual(apiErrorOf(502, undefined, 'Bad Gateway'), { code: 'HTTP_502', message: 'Bad Gateway' });
  });

  it('finds the field a validation message is about', () => {
    assert.deepEqual(fieldOfMessage('name: is required'), { field: 'name' });
    assert.deepEqual(fieldOfMessage('actions[1].code: is required'), { action: 1, field: 'code' });
    assert.deepEqual(fieldOfMessage('actions[0].inputFields[2].fromAction.actionId: no earlier action has id "x"'), { action: 0, field: 'inputFields' });
    assert.deepEqual(fieldOfMessage('actions[3]: must be an object'), { action: 3, field: 'action' });
    assert.equal(fieldOfMessage('unknown API key'), undefined);
  });

  it('finds the line (and column) a message names', () => {
    assert.deepEqual(errorLocation('actions[0].code: SyntaxError: Unexpected token (3:7)'), { line: 3, column: 7 });
    assert.deepEqual(errorLocation('Unexpected identifier at line 4, column 2'), { line: 4, column: 2 });
    assert.deepEqual(errorLocation('ReferenceError: x is not defined\n    at action.js:12:5'), { line: 12, column: 5 });
    assert.deepEqual(errorLocation('bad thing on line 9'), { line: 9 });
    assert.equal(errorLocation('name: is required'), undefined);
  });
});

describe("the workflow editor's form", () => {
  const form: WorkflowForm = {
    name: 'Greet',
    objectType: 'CONTACT',
    actions: [
      {
        ...emptyAction(0),
        inputFields: [{ name: 'email', source: 'property', property: 'email', value: '', fromAction: '', fromField: '' }],
        outputFields: [{ name: 'greeting', type: 'string', options: '' }],
        secrets: ['API_TOKEN'],
        timeoutMs: '5000',
      },
      {
        ...emptyAction(1),
        name: 'Second',
        runtime: 'jsworkflows',
        inputFields: [
          { name: 'g', source: 'fromAction', property: '', value: '', fromAction: 'action-1', fromField: 'greeting' },
          { name: 'n', source: 'value', property: '', value: '42', fromAction: '', fromField: '' },
        ],
        outputFields: [{ name: 'tier', type: 'enum', options: 'gold, silver,, bronze' }],
      },
    ],
  };

  it('becomes a body the API accepts, and comes back from the API as it was typed', () => {
    const body = toApiBody(form);
    const parsed = parseWorkflowInput(body);
    assert.equal(parsed.actions.length, 2);
    assert.deepEqual(parsed.actions[1]!.outputFields[0]!.options, ['gold', 'silver', 'bronze']);
    assert.equal(parsed.actions[0]!.timeoutMs, 5000);
    const shown = { name: parsed.name, objectType: parsed.objectType, actions: parsed.actions.map(actionToInput) };
    const back = fromApi(JSON.parse(JSON.stringify(shown)));
    assert.deepEqual(back.actions[0]!.inputFields, form.actions[0]!.inputFields);
    assert.deepEqual(back.actions[1]!.inputFields, form.actions[1]!.inputFields);
    assert.equal(back.actions[1]!.outputFields[0]!.options, 'gold, silver, bronze');
    assert.equal(back.actions[0]!.timeoutMs, '5000');
    assert.equal(back.actions[1]!.runtime, 'jsworkflows');
  });

  it('keeps a schedule trigger through the form (cron or every), and none removes it', () => {
    const trigger = { type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris', missed: 'runOnce' };
    const back = fromApi(JSON.parse(JSON.stringify({ ...toApiBody(form), trigger })));
    assert.deepEqual(back.schedule, { kind: 'cron', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris', every: '1 h', missed: 'runOnce' });
    assert.deepEqual(parseWorkflowInput(toApiBody(back)).trigger, { type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris', every: '', missed: 'runOnce' });
    const every = fromApi({ ...toApiBody(form), trigger: { type: 'schedule', every: '15 min', missed: 'skip' } });
    assert.deepEqual(parseWorkflowInput(toApiBody(every)).trigger, { type: 'schedule', cron: '', timezone: '', every: '15 min', missed: 'skip' });
    assert.equal(toApiBody(fromApi(toApiBody(form))).trigger, undefined);
    assert.equal(toApiBody({ ...back, schedule: { ...back.schedule!, kind: 'none' } }).trigger, undefined, 'choosing none drops the trigger');
  });

  it("puts the API's refusal of a schedule on its field", () => {
    const body = toApiBody({ ...form, schedule: { ...emptySchedule(), kind: 'cron', cron: '0 9 * *' } });
    assert.throws(
      () => parseWorkflowInput(body),
      (e: Error) => {
        assert.deepEqual(fieldOfMessage(e.message), { field: 'trigger.cron' });
        return true;
      },
    );
    assert.deepEqual(fieldOfMessage('trigger: give exactly one of "cron" (with an optional "timezone") or "every"'), { field: 'trigger' });
    assert.deepEqual(fieldOfMessage('trigger.timezone: "Mars/Olympus" is not an IANA time zone'), { field: 'trigger.timezone' });
  });

  it('sends a limit typed as text as typed, for the API to say what is wrong', () => {
    const body = toApiBody({ ...emptyWorkflow(), name: 'x', actions: [{ ...emptyAction(0), memoryMb: 'lots' }] });
    assert.throws(() => parseWorkflowInput(body), /actions\[0\]\.memoryMb/);
  });

  it('offers an input only the outputs of the actions before it', () => {
    assert.deepEqual(earlierOutputs(form, 0), []);
    assert.deepEqual(earlierOutputs(form, 1), [{ actionId: 'action-1', field: 'greeting' }]);
  });
});

describe("the console's URLs", () => {
  it('parse back to the view they were made from', () => {
    const views: View[] = [
      { name: 'workflows' },
      { name: 'workflow', id: 'wf 1/x' },
      { name: 'history', workflowId: 'wf-1', status: 'failed', since: '2026-12-01T00:00', until: '2026-12-02T00:00', objectId: '901' },
      { name: 'history', workflowId: '', status: '', since: '', until: '', objectId: '' },
      { name: 'versions', id: 'wf-1', from: 2, to: 5 },
      { name: 'versions', id: 'wf-1', from: 0, to: 0 },
      { name: 'enrollment', id: 'e-1' },
      { name: 'tail', enrollmentId: '', workflowId: '' },
      { name: 'tail', enrollmentId: 'enr 1', workflowId: 'wf-1' },
      { name: 'secrets' },
      { name: 'connections' },
      { name: 'settings' },
      { name: 'api-keys' },
    ];
    for (const v of views) {
      const url = new URL(hrefOf(v), 'http://console');
      assert.deepEqual(parseLocation(url.pathname, url.search), v);
    }
    assert.deepEqual(parseLocation('/', ''), { name: 'workflows' });
    assert.deepEqual(parseLocation('/nope/x/y', ''), { name: 'not-found', path: '/nope/x/y' });
    assert.deepEqual(parseLocation('/workflows/wf-1/versions', '?from=x&to=-1'), { name: 'versions', id: 'wf-1', from: 0, to: 0 }, 'a version that is not a number is none');
  });
});

describe('a code diff side by side', () => {
  /** The rows as `left | right` text: `-n text` removed, `+n text` added, ` n text` unchanged, `·` nothing. */
  const render = (rows: SideRow[]) =>
    rows.map((r) => {
      if (r.type === 'hunk') return r.header;
      const side = (l: (typeof r)['left']) => (l ? `${l.kind === 'removed' ? '-' : l.kind === 'added' ? '+' : ' '}${l.n} ${l.text}` : '·');
      return `${side(r.left)} | ${side(r.right)}`;
    });

  it("pairs each hunk's removed lines with its added lines, numbering each side in its own version", () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l'].join('\n');
    const after = ['a', 'B', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n'].join('\n');
    const diff = unifiedDiff(before, after, { from: 'v1/x', to: 'v2/x' });
    assert.deepEqual(render(sideBySide(diff)), [
      '@@ -1,5 +1,5 @@',
      ' 1 a |  1 a',
      '-2 b | +2 B',
      ' 3 c |  3 c',
      ' 4 d |  4 d',
      ' 5 e |  5 e',
      '@@ -10,3 +10,5 @@',
      ' 10 j |  10 j',
      ' 11 k |  11 k',
      ' 12 l |  12 l',
      '· | +13 m',
      '· | +14 n',
    ]);
  });

  it('shows an added action all on the right and a removed one all on the left', () => {
    assert.deepEqual(render(sideBySide(unifiedDiff('', 'x\ny', { from: '/dev/null', to: 'v2/a' }))), ['@@ -0,0 +1,2 @@', '· | +1 x', '· | +2 y']);
    assert.deepEqual(render(sideBySide(unifiedDiff('x\ny\nz', 'x', { from: 'v1/a', to: 'v2/a' }))), ['@@ -1,3 +1,1 @@', ' 1 x |  1 x', '-2 y | ·', '-3 z | ·']);
    assert.deepEqual(sideBySide(''), []);
  });
});

describe("the history list's requests", () => {
  const none: HistoryFilters = { workflowId: '', status: '', objectId: '', since: '', until: '' };
  const local = isoToLocal(Date.parse('2026-12-07T15:30:00Z'));

  it("sends the filters as the API's query, the browser's local times as ISO 8601", () => {
    assert.equal(listQuery(none, 50).toString(), 'limit=50');
    const q = listQuery({ workflowId: 'wf-1', status: 'failed', objectId: ' 901 ', since: local, until: '' }, 50);
    assert.equal(q.get('workflowId'), 'wf-1');
    assert.equal(q.get('status'), 'failed');
    assert.equal(q.get('objectId'), '901');
    assert.equal(q.get('startedAfter'), '2026-12-07T15:30:00.000Z', 'the local time round-trips to the same instant');
    assert.equal(q.has('startedBefore'), false);
    assert.equal(localToIso('not a time'), undefined);
    assert.equal(localToIso(''), undefined);
    assert.equal(Date.parse(localToIso(hoursAgo(24, Date.parse('2026-12-07T15:30:00Z')))!), Date.parse('2026-12-06T15:30:00Z'));
  });

  /** Pages through `all` (newest first, as the API orders them) the way the view does, answering each query from `all`. */
  function pageThrough(all: { id: string; startedAt: string }[], size: number, filters = none): string[][] {
    const pages: string[][] = [];
    let cursor: PageCursor | undefined;
    do {
      const q = listQuery(filters, size, cursor);
      const before = q.get('startedBefore');
      const answer = all.filter((r) => !before || Date.parse(r.startedAt) < Date.parse(before)).slice(0, Number(q.get('limit')));
      const page = takePage(answer, size, cursor);
      pages.push(page.rows.map((r) => r.id));
      cursor = page.next;
    } while (cursor && pages.length < 100);
    return pages;
  }

  it('pages newest first by start time, never skipping or repeating an enrollment, however many start in the same millisecond', () => {
    const at = (ms: number) => new Date(Date.parse('2026-12-07T00:00:00Z') + ms).toISOString();
    // 23 enrollments: 9 in one millisecond (across page boundaries), the rest one per millisecond.
    const all = [
      ...Array.from({ length: 7 }, (_, i) => ({ id: `a${i}`, startedAt: at(100 - i) })),
      ...Array.from({ length: 9 }, (_, i) => ({ id: `b${i}`, startedAt: at(50) })),
      ...Array.from({ length: 7 }, (_, i) => ({ id: `c${i}`, startedAt: at(40 - i) })),
    ];
    for (const size of [1, 2, 4, 5, 50]) {
      const pages = pageThrough(all, size);
      assert.deepEqual(
        pages.flat(),
        all.map((r) => r.id),
        `page size ${size}`,
      );
      assert.ok(
        pages.slice(0, -1).every((p) => p.length === size),
        `full pages of ${size}`,
      );
    }
  });

  it('keeps the upper bound of the filter on later pages', () => {
    const q = listQuery({ ...none, until: local }, 10, { startedAtMs: Date.parse('2026-12-08T00:00:00Z'), seen: ['x'] });
    assert.equal(q.get('startedBefore'), '2026-12-07T15:30:00.000Z', 'the filter is earlier than the cursor');
    assert.equal(q.get('limit'), '11');
    const later = listQuery({ ...none, until: local }, 10, { startedAtMs: Date.parse('2026-12-07T10:00:00Z'), seen: [] });
    assert.equal(later.get('startedBefore'), '2026-12-07T10:00:00.001Z');
  });
});

describe('testing an action from the editor', () => {
  it("makes a sample event from the action's inputs: the properties it reads, and values for the outputs it takes", () => {
    const action = {
      ...emptyAction(1),
      inputFields: [
        { name: 'email', source: 'property' as const, property: 'email', value: '', fromAction: '', fromField: '' },
        { name: 'co', source: 'property' as const, property: 'company', value: '', fromAction: '', fromField: '' },
        { name: 'g', source: 'fromAction' as const, property: '', value: '', fromAction: 'action-1', fromField: 'greeting' },
        { name: 'n', source: 'value' as const, property: '', value: '42', fromAction: '', fromField: '' },
      ],
    };
    assert.deepEqual(sampleTestBody(action, 'DEAL'), {
      object: { objectType: 'DEAL', objectId: '123', properties: { email: 'ada@example.com', company: 'sample company' } },
      inputFields: { g: 'sample greeting' },
    });
    assert.deepEqual(Object.keys(sampleTestBody({ ...emptyAction(0), runtime: 'jsworkflows' }, 'CONTACT')), ['data', 'headers']);
  });

  it('sends the edited JSON with dryRun when asked, and says plainly what is wrong with JSON that is not an object', () => {
    assert.deepEqual(testRequestBody('{"object": {"objectId": "7"}}', true), { body: { object: { objectId: '7' }, dryRun: true } });
    assert.deepEqual(testRequestBody('{"dryRun": true}', false), { body: {} });
    assert.deepEqual(testRequestBody('', false), { body: {} });
    assert.match((testRequestBody('{"object": ', false) as { problem: string }).problem, /^The test event is not JSON/);
    assert.match((testRequestBody('[1]', false) as { problem: string }).problem, /must be a JSON object/);
  });

  it("finds the line of the user's code a failure points at, in the error or in the stack logged at error level", () => {
    const failed = {
      executionId: 'x',
      status: 'failed',
      error: { code: 'USER_CODE_ERROR', message: "TypeError: Cannot read properties of null (reading 'foo')" },
      logs: [
        { level: 'log', message: 'at 1:1 nothing' },
        { level: 'error', message: "TypeError: Cannot read properties of null (reading 'foo')\n    at exports.main (/action/index.js:3:8)" },
      ],
    };
    assert.deepEqual(failureLine(failed), { line: 3, column: 8, message: failed.error.message });
    assert.deepEqual(failureLine({ ...failed, logs: [], error: { code: 'USER_CODE_ERROR', message: 'boom at line 9' } }), { line: 9, message: 'boom at line 9' });
    assert.equal(failureLine({ ...failed, logs: [], error: { code: 'TIMEOUT', message: 'did not finish within its time limit of 300 ms' } }), undefined);
    assert.equal(failureLine({ executionId: 'x', status: 'succeeded', error: null }), undefined);
  });
});

const memory = (): KeyValueStore & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
};

describe('the link to a trace', () => {
  const id = '4bf92f3577b34da6a3ce929d0e0e4736';
  it("fills the operator's template with the trace id, only for an http(s) link and a real trace id", () => {
    assert.equal(traceUrl('http://localhost:16686/trace/{traceId}', id), `http://localhost:16686/trace/${id}`);
    assert.equal(traceUrl('https://grafana.example/explore?trace={traceId}&x={traceId}', id), `https://grafana.example/explore?trace=${id}&x=${id}`);
    assert.equal(traceUrl('javascript:alert({traceId})', id), undefined);
    assert.equal(traceUrl('http://jaeger/trace/', id), undefined);
    assert.equal(traceUrl('http://jaeger/trace/{traceId}', 'not-a-trace'), undefined);
  });

  it('keeps a template that makes such links, refuses one that does not, forgets a blank one', () => {
    const store = memory();
    assert.match(saveTraceTemplate(store, 'ftp://x/{traceId}') ?? '', /http\(s\) URL containing \{traceId\}/);
    assert.equal(loadTraceTemplate(store), '');
    assert.equal(saveTraceTemplate(store, ' http://jaeger:16686/trace/{traceId} '), undefined);
    assert.equal(loadTraceTemplate(store), 'http://jaeger:16686/trace/{traceId}');
    saveTraceTemplate(store, '');
    assert.equal(loadTraceTemplate(store), '');
  });
});

describe('drafts', () => {
  it('keep a form per workflow until cleared, and ignore what is not a draft', () => {
    const store = memory();
    const form = { ...emptyWorkflow(), name: 'typed, not saved' };
    saveDraft(store, 'new', form);
    assert.deepEqual(loadDraft(store, 'new'), form);
    assert.equal(loadDraft(store, 'wf-2'), undefined);
    clearDraft(store, 'new');
    assert.equal(loadDraft(store, 'new'), undefined);
    store.setItem('codestep.draft.bad', '{not json');
    assert.equal(loadDraft(store, 'bad'), undefined);
  });

  it('bring the trigger of a draft kept before the editor showed schedules into its schedule form', () => {
    const store = memory();
    const trigger = { type: 'schedule', every: '15 min', missed: 'skip' };
    store.setItem('codestep.draft.wf-3', JSON.stringify({ form: { ...emptyWorkflow(), name: 'old draft', trigger } }));
    const draft = loadDraft(store, 'wf-3')!;
    assert.equal(draft.schedule?.kind, 'every');
    assert.deepEqual(toApiBody(draft).trigger, trigger, 'saving the old draft keeps its trigger');
  });
});
