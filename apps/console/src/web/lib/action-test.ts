/**
 * Testing one action from the editor (POST /v1/workflows/{id}/actions/{actionId}/test): the sample
 * event a test starts from, made from the action's declared inputs; the body sent (the JSON the
 * user edited, with `dryRun`); and the line of the user's code a failure points at (from the
 * error, or from the stack the sandbox logs at `error` level, `at … (/action/index.js:3:8)`).
 */
import { errorLocation } from './api-errors.ts';
import type { ActionForm } from './workflow-form.ts';

export interface ActionTestResult {
  executionId: string;
  workflowVersion?: number;
  status: string;
  outputFields?: Record<string, unknown>;
  returnValue?: unknown;
  logs?: { level: string; message: string; at?: string | null }[];
  error?: { code: string; message: string } | null;
  durationMs?: number;
  dryRun?: boolean;
  /** A dry run's write ledger: each write the action asked for and was not sent (null when the platform ended the action). */
  dryRunLedger?: { writes: unknown[]; dropped: number } | null;
  links?: { execution?: string };
}

const SAMPLE_VALUES: Record<string, string> = { email: 'ada@example.com', firstname: 'Ada', lastname: 'Lovelace', phone: '+44 20 7946 0000' };

/** A test event for `action`: HubSpot, an object with each property its inputs read and a value for each input taken from an earlier action; JsWorkflows, the data and headers `start` receives. */
export function sampleTestBody(action: ActionForm, objectType: string): Record<string, unknown> {
  if (action.runtime === 'jsworkflows') return { data: { name: '#1001', email: 'ada@example.com' }, headers: { 'content-type': 'application/json' } };
  const properties: Record<string, string> = {};
  const inputFields: Record<string, string> = {};
  for (const f of action.inputFields) {
    if (f.source === 'property' && f.property) properties[f.property] = SAMPLE_VALUES[f.property] ?? `sample ${f.property}`;
    if (f.source === 'fromAction' && f.name) inputFields[f.name] = `sample ${f.fromField || f.name}`;
  }
  return { object: { objectType: objectType || 'CONTACT', objectId: '123', properties }, ...(Object.keys(inputFields).length ? { inputFields } : {}) };
}

/** The body of the test request: the edited JSON (an object), with `dryRun: true` when asked; a problem when the JSON is not an object. */
export function testRequestBody(text: string, dryRun: boolean): { body: Record<string, unknown> } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = text.trim() ? JSON.parse(text) : {};
  } catch (e) {
    return { problem: `The test event is not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { problem: 'The test event must be a JSON object, like {"object": {"objectId": "123", "properties": {}}}' };
  const body = { ...(parsed as Record<string, unknown>) };
  if (dryRun) body.dryRun = true;
  else delete body.dryRun;
  return { body };
}

const STACK_LINE = /\/action\/index\.js:(\d+):(\d+)/;

/** The line (and column) of the action's code a failed test points at, if any. */
export function failureLine(result: ActionTestResult): { line: number; column?: number; message: string } | undefined {
  if (result.status !== 'failed' || !result.error) return undefined;
  const message = result.error.message;
  const texts = [message, ...(result.logs ?? []).filter((l) => l.level === 'error').map((l) => l.message)];
  for (const t of texts) {
    const m = STACK_LINE.exec(t);
    if (m) return { line: Number(m[1]), column: Number(m[2]), message };
  }
  const at = errorLocation(message);
  return at ? { ...at, message } : undefined;
}
