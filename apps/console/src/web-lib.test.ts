/**
 * The console's logic that runs without a browser: the API's refusals put on their field and line,
 * the editor's form to and from the API's JSON, the URLs, and the drafts kept across reloads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWorkflowInput, actionToInput } from '@codestep/workflows';
import { apiErrorOf, errorLocation, fieldOfMessage } from './web/lib/api-errors.ts';
import { clearDraft, loadDraft, saveDraft, type KeyValueStore } from './web/lib/drafts.ts';
import { hrefOf, parseLocation, type View } from './web/lib/routes.ts';
import { loadTraceTemplate, saveTraceTemplate, traceUrl } from './web/lib/trace-url.ts';
import { earlierOutputs, emptyAction, emptyWorkflow, fromApi, toApiBody, type WorkflowForm } from './web/lib/workflow-form.ts';

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

  it('keeps a schedule trigger the editor does not show, so saving does not drop it', () => {
    const trigger = { type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris', missed: 'runOnce' };
    const back = fromApi(JSON.parse(JSON.stringify({ ...toApiBody(form), trigger })));
    assert.deepEqual(parseWorkflowInput(toApiBody(back)).trigger, { type: 'schedule', cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris', every: '', missed: 'runOnce' });
    assert.equal(toApiBody(fromApi(toApiBody(form))).trigger, undefined);
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
      { name: 'history', workflowId: 'wf-1', status: 'failed' },
      { name: 'history', workflowId: '', status: '' },
      { name: 'enrollment', id: 'e-1' },
      { name: 'tail', enrollmentId: '' },
      { name: 'secrets' },
      { name: 'connections' },
      { name: 'settings' },
    ];
    for (const v of views) {
      const url = new URL(hrefOf(v), 'http://console');
      assert.deepEqual(parseLocation(url.pathname, url.search), v);
    }
    assert.deepEqual(parseLocation('/', ''), { name: 'workflows' });
    assert.deepEqual(parseLocation('/nope/x/y', ''), { name: 'not-found', path: '/nope/x/y' });
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
});
