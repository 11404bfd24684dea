/**
 * Reading the API's refusals: its `{"error": {"code", "message"}}` body, the field a validation
 * message names (`actions[1].code: ...`), and the line and column a message gives, so the view can
 * put the message on the field, or on the line of the code, that it is about.
 */
export interface ApiErrorBody {
  error?: { code?: unknown; message?: unknown };
}

export function apiErrorOf(status: number, body: ApiErrorBody | undefined, text: string): { code: string; message: string } {
  const e = body?.error;
  if (e && typeof e.message === 'string') return { code: typeof e.code === 'string' ? e.code : `HTTP_${status}`, message: e.message };
  if (status === 401) return { code: 'UNAUTHENTICATED', message: 'The API key was refused.' };
  return { code: `HTTP_${status}`, message: text.trim().slice(0, 300) || `The server answered ${status}.` };
}

/** Where in a workflow a validation message points: the action (by index) and the field, or the workflow's own field. */
export interface FieldPath {
  action?: number;
  field: string;
}

/** The field path a message starts with (`name: ...`, `actions[0].code: ...`, `actions[2].inputFields[0].name: ...`, `trigger.cron: ...`). */
export function fieldOfMessage(message: string): FieldPath | undefined {
  const m = /^(actions\[(\d+)\](?:\.([A-Za-z]+))?|name|objectType|actions|trigger(?:\.[A-Za-z]+)?)(?![A-Za-z0-9_])[^:]*:/.exec(message);
  if (!m) return undefined;
  if (m[2] !== undefined) return { action: Number(m[2]), field: m[3] ?? 'action' };
  return { field: m[1]! };
}

/** A 1-based line (and column, when given) a message names: "line 3, column 7", "line 3", "(3:7)" or "action.js:3:7". */
export function errorLocation(message: string): { line: number; column?: number } | undefined {
  const words = /\bline (\d+)(?:,? col(?:umn)? (\d+))?/i.exec(message);
  if (words) return words[2] ? { line: Number(words[1]), column: Number(words[2]) } : { line: Number(words[1]) };
  const pair = /(?:\(|\.js:|\bat )(\d+):(\d+)\)?/.exec(message);
  if (pair) return { line: Number(pair[1]), column: Number(pair[2]) };
  return undefined;
}
