/**
 * `codestep workflows …`: day-two operations over the HTTP API of a running platform
 * (CODESTEP_URL, default http://127.0.0.1:8080; CODESTEP_API_KEY). Every subcommand prints a short
 * human answer, or the API's JSON with `--json`; exit 0 done, 1 refused or failed, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const WORKFLOWS_USAGE = `usage: codestep workflows <subcommand> [--json]
  list [--all]                                 workflows (--all: archived too)
  versions <workflowId>                        every version, newest first
  schedule <workflowId>                        its schedule trigger: next 5 fire times, last tick
  diff <workflowId> [--from N] [--to N]        what changed between two versions (default: the last two)
  rollback <workflowId> --to N                 a new version equal to version N
  enable|disable|archive <workflowId> [--reason TEXT]
  test <workflowId> <actionId> [--event FILE] [--version N] [--input name=value ...] [--dry-run]
       [--object-id ID [--object-type TYPE] [--connection HANDLE]] [--code FILE]
                                               run one action as saved (FILE: {"object": {...}, "inputFields": {...}});
                                               --dry-run: writes are not sent, listed instead; --object-id: a real record
                                               read from HubSpot; --code: a draft of the action's code, not saved
  retry <enrollmentId> [--latest] [--input name=value ...]
                                               re-run a failed enrollment from its failed step
  retry-failed <workflowId> [--error-code CODE] [--since ISO] [--until ISO] [--limit N] [--latest]
                                               retry every failed enrollment that matches, and follow the job
  enroll <workflowId> --file objects.csv|.ndjson|.json [--key IDEMPOTENCY_KEY]
                                               bulk enrollment, with a progress bar
  webhook-rotate|webhook-revoke <workflowId>   a new webhook URL, or none
environment: CODESTEP_URL (default http://127.0.0.1:8080), CODESTEP_API_KEY`;

interface Io {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
}

export type Answer = { status: number; body: any };

/** A client of the HTTP API of a running platform (CODESTEP_URL, CODESTEP_API_KEY): status and parsed body. */
export function client(env: NodeJS.ProcessEnv) {
  const base = (env.CODESTEP_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const res = await fetch(base + path, {
      method,
      headers: { ...(env.CODESTEP_API_KEY ? { authorization: `Bearer ${env.CODESTEP_API_KEY}` } : {}), ...(text === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(text === undefined ? {} : { body: text }),
    });
    const raw = await res.text();
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // Not JSON: shown as it is.
    }
    return { status: res.status, body: parsed };
  };
}

/** `name=value` pairs; values that read as numbers or booleans are sent as such. */
function inputsOf(pairs: string[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new UsageError(`--input ${p}: use name=value`);
    const v = p.slice(i + 1);
    out[p.slice(0, i)] = v === 'true' ? true : v === 'false' ? false : v !== '' && !Number.isNaN(Number(v)) && /^-?\d/.test(v) ? Number(v) : v;
  }
  return out;
}

class UsageError extends Error {}

/** RFC 4180-ish CSV: a header row, quoted fields with "" escapes. Columns objectId, objectType, idempotencyKey; the others are properties. */
export function csvToNdjson(text: string): string {
  const records: string[][] = [];
  let field = '';
  let record: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((field += '"'), i++);
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (record.push(field), (field = ''));
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      ((record = []), (field = ''));
    } else field += ch;
  }
  if (field !== '' || record.length) (record.push(field), records.push(record));
  const [header, ...rows] = records;
  if (!header?.includes('objectId')) throw new UsageError('the CSV needs a header row with an objectId column');
  // An empty first line for the header: the API's line numbers are then the CSV file's.
  return [
    '',
    ...rows.map((cells) => {
      if (cells.length === 1 && cells[0] === '') return '';
      const row: Record<string, unknown> = { properties: {} };
      header.forEach((name, i) => {
        const v = cells[i] ?? '';
        if (name === 'objectId' || name === 'objectType' || name === 'idempotencyKey') {
          if (v !== '') row[name] = v;
        } else if (v !== '') (row.properties as Record<string, string>)[name] = v;
      });
      return JSON.stringify(row);
    }),
  ].join('\n');
}

function bar(done: number, total: number): string {
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

export async function workflowsCommand(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    io.stdout.write(WORKFLOWS_USAGE + '\n');
    return sub ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        all: { type: 'boolean' },
        latest: { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        reason: { type: 'string' },
        event: { type: 'string' },
        version: { type: 'string' },
        input: { type: 'string', multiple: true },
        'error-code': { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string' },
        file: { type: 'string' },
        key: { type: 'string' },
        'dry-run': { type: 'boolean' },
        'object-id': { type: 'string' },
        'object-type': { type: 'string' },
        connection: { type: 'string' },
        code: { type: 'string' },
      },
    });
  } catch (error) {
    io.stderr.write(`codestep workflows: ${error instanceof Error ? error.message : String(error)}\n${WORKFLOWS_USAGE}\n`);
    return 2;
  }
  try {
    return await run(sub, parsed.positionals, parsed.values, env, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`codestep workflows ${sub}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** What every subcommand uses: the API, its arguments, and how answers are shown. */
function contextOf(args: string[], v: Values, env: NodeJS.ProcessEnv, io: Io) {
  const call = client(env);
  const json = v.json === true;
  const need = (n: number, what: string) => {
    if (args.length !== n) throw new UsageError(`needs ${what}`);
    return args;
  };
  const int = (name: string) => {
    const raw = v[name];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number`);
    return Number(raw);
  };
  const show = (a: Answer, human: (b: any) => string): number => {
    if (a.status >= 400) {
      const e = a.body?.error;
      io.stderr.write(json ? JSON.stringify(a.body, null, 2) + '\n' : `✖ ${a.status} ${e?.code ?? ''}: ${e?.message ?? JSON.stringify(a.body)}\n`);
      return 1;
    }
    io.stdout.write(json ? JSON.stringify(a.body, null, 2) + '\n' : human(a.body) + '\n');
    return 0;
  };
  return { call, json, need, int, show, v, io };
}

type Context = ReturnType<typeof contextOf>;

/** A schedule as `codestep workflows schedule` prints it. */
function scheduleText(b: any): string {
  if (!b.trigger) return `${b.workflowId} has no schedule trigger`;
  const what = b.trigger.every ? `every ${b.trigger.every}` : `cron "${b.trigger.cron}" in ${b.trigger.timezone}`;
  const last = b.lastTick
    ? `last tick ${b.lastTick.tickAt}: ${b.lastTick.outcome}${b.lastTick.enrollmentId ? ` (${b.lastTick.enrollmentId})` : ''}${b.lastTick.missed ? `, ${b.lastTick.missed} missed` : ''}`
    : 'no tick yet';
  const next = b.armed ? ['next:', ...b.nextFireTimes.map((t: string) => `  ${t}`)] : [`not firing: the workflow is ${b.status}`];
  return [`${b.workflowId}: ${what}, missed ticks: ${b.trigger.missed}`, ...next, last].join('\n');
}

async function run(sub: string, args: string[], v: Values, env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const ctx = contextOf(args, v, env, io);
  const out = (await workflowOps(sub, ctx)) ?? (await jobOps(sub, ctx));
  if (out === undefined) throw new UsageError(`unknown subcommand "${sub}"\n${WORKFLOWS_USAGE}`);
  return out;
}

/** Reading and changing workflows. */
async function workflowOps(sub: string, { call, need, int, show, v }: Context): Promise<number | undefined> {
  switch (sub) {
    case 'list':
      need(0, 'no arguments');
      return show(await call('GET', `/v1/workflows${v.all ? '?includeArchived=true' : ''}`), (b) => b.workflows.map((w: any) => `${w.id}  v${w.version}  ${w.status}  ${w.name}`).join('\n'));
    case 'versions': {
      const [id] = need(1, 'a workflow id');
      return show(await call('GET', `/v1/workflows/${encodeURIComponent(id!)}/versions`), (b) =>
        b.versions.map((x: any) => `v${x.version}  ${x.createdAt}${x.rolledBackFrom ? `  (rollback to v${x.rolledBackFrom})` : ''}  ${x.actions.map((a: any) => a.id).join(', ')}`).join('\n'),
      );
    }
    case 'schedule': {
      const [id] = need(1, 'a workflow id');
      return show(await call('GET', `/v1/workflows/${encodeURIComponent(id!)}/schedule`), scheduleText);
    }
    case 'diff': {
      const [id] = need(1, 'a workflow id');
      const q = new URLSearchParams();
      if (int('from') !== undefined) q.set('from', String(int('from')));
      if (int('to') !== undefined) q.set('to', String(int('to')));
      return show(await call('GET', `/v1/workflows/${encodeURIComponent(id!)}/diff?${q}`), (b) =>
        b.identical
          ? `v${b.from} and v${b.to} are identical`
          : [
              ...b.changes.map((c: any) => `${c.field}: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}`),
              ...b.actions.map((a: any) =>
                [`action ${a.actionId}: ${a.change}`, ...a.fields.map((f: any) => `  ${f.field}: ${JSON.stringify(f.from)} → ${JSON.stringify(f.to)}`), a.codeDiff].filter(Boolean).join('\n'),
              ),
            ].join('\n'),
      );
    }
    case 'rollback': {
      const [id] = need(1, 'a workflow id');
      const to = int('to');
      if (to === undefined) throw new UsageError('needs --to N: the version to roll back to');
      return show(
        await call('POST', `/v1/workflows/${encodeURIComponent(id!)}/rollback`, { toVersion: to }),
        (b) => `✔ ${b.id} is now v${b.version}${b.rolledBackFrom ? ` (equal to v${b.rolledBackFrom})` : ' (unchanged)'}`,
      );
    }
    case 'enable':
    case 'disable':
    case 'archive': {
      const [id] = need(1, 'a workflow id');
      const path = `/v1/workflows/${encodeURIComponent(id!)}`;
      const a = sub === 'archive' ? await call('DELETE', path) : await call('POST', `${path}/${sub}`, typeof v.reason === 'string' ? { reason: v.reason } : undefined);
      return show(a, (b) => `✔ ${id} is ${b.status}`);
    }
    case 'webhook-rotate':
    case 'webhook-revoke': {
      const [id] = need(1, 'a workflow id');
      const path = `/v1/workflows/${encodeURIComponent(id!)}/webhook`;
      const a = sub === 'webhook-rotate' ? await call('POST', `${path}/rotate`) : await call('DELETE', path);
      return show(a, (b) => (b.path ? `✔ new webhook path: ${b.path}` : `✔ webhook of ${id} revoked`));
    }
    default:
      return undefined;
  }
}

/** Running things: tests, retries, bulk enrollment. */
async function jobOps(sub: string, { call, json, need, int, show, v, io }: Context): Promise<number | undefined> {
  switch (sub) {
    case 'test': {
      const [id, actionId] = need(2, 'a workflow id and an action id');
      const body: Record<string, unknown> = typeof v.event === 'string' ? (JSON.parse(readFileSync(v.event, 'utf8')) as Record<string, unknown>) : {};
      if (int('version') !== undefined) body.version = int('version');
      if (Array.isArray(v.input)) body.inputFields = { ...(body.inputFields as object | undefined), ...inputsOf(v.input) };
      if (v['dry-run']) body.dryRun = true;
      if (typeof v['object-id'] === 'string') {
        // No properties: the platform reads the record from HubSpot.
        body.object = {
          objectId: v['object-id'],
          ...(typeof v['object-type'] === 'string' ? { objectType: v['object-type'] } : {}),
          ...(typeof v.connection === 'string' ? { connection: v.connection } : {}),
        };
      }
      if (typeof v.code === 'string') {
        // A draft: the saved action with this code, not saved.
        const saved = await call('GET', `/v1/workflows/${encodeURIComponent(id!)}${int('version') ? `?version=${int('version')}` : ''}`);
        if (saved.status >= 400) return show(saved, () => '');
        const action = (saved.body.actions as Array<Record<string, unknown>>).find((x) => x.id === actionId);
        if (!action) throw new UsageError(`workflow ${id} has no action "${actionId}" to draft`);
        body.action = { ...action, code: readFileSync(v.code, 'utf8') };
      }
      const a = await call('POST', `/v1/workflows/${encodeURIComponent(id!)}/actions/${encodeURIComponent(actionId!)}/test`, body);
      const code = show(a, (b) =>
        [
          `${b.status === 'succeeded' ? '✔' : b.status === 'failed' ? '✖' : '…'} ${b.status} in ${b.durationMs ?? '?'} ms (v${b.workflowVersion}${b.draft ? ', draft' : ''}${b.dryRun ? ', dry run' : ''}, execution ${b.executionId})`,
          ...Object.entries(b.outputFields ?? {}).map(([k, x]) => `  ${k} = ${JSON.stringify(x)}`),
          ...(b.logs ?? []).map((l: any) => `  [${l.level}] ${l.message}`),
          ...(b.error ? [`  ${b.error.code}: ${b.error.message}`] : []),
          ...(b.dryRunLedger?.writes ?? []).map((w: any) => `  not sent: ${w.method} ${w.url} (${w.bodyBytes} bytes; answered ${w.status})`),
        ].join('\n'),
      );
      return code || (a.body?.status === 'failed' ? 1 : 0);
    }
    case 'retry': {
      const [id] = need(1, 'an enrollment id');
      const body = { ...(v.latest ? { version: 'latest' } : {}), ...(Array.isArray(v.input) ? { inputFields: inputsOf(v.input) } : {}) };
      return show(await call('POST', `/v1/enrollments/${encodeURIComponent(id!)}/retry`, body), (b) => `✔ ${b.id} runs again from ${b.actionId} on v${b.workflowVersion} (round ${b.round})`);
    }
    case 'retry-failed': {
      const [id] = need(1, 'a workflow id');
      const body: Record<string, unknown> = { ...(v.latest ? { version: 'latest' } : {}) };
      if (typeof v['error-code'] === 'string') body.errorCode = v['error-code'];
      if (typeof v.since === 'string') body.failedAfter = v.since;
      if (typeof v.until === 'string') body.failedBefore = v.until;
      if (int('limit') !== undefined) body.limit = int('limit');
      const started = await call('POST', `/v1/workflows/${encodeURIComponent(id!)}/retries`, body);
      if (started.status >= 400) return show(started, () => '');
      return follow(
        io,
        json,
        () => call('GET', `/v1/retries/${started.body.jobId}`),
        (j) => ({ done: j.completed + j.failed + j.refused, total: j.total }),
        (j) => `retried ${j.retried}: ${j.completed} completed, ${j.failed} failed again, ${j.refused} refused`,
      );
    }
    case 'enroll': {
      const [id] = need(1, 'a workflow id');
      if (typeof v.file !== 'string') throw new UsageError('needs --file objects.csv|.ndjson|.json');
      const text = readFileSync(v.file, 'utf8');
      const body = v.file.endsWith('.csv') ? csvToNdjson(text) : text;
      const headers = { 'content-type': v.file.endsWith('.json') ? 'application/json' : 'application/x-ndjson', ...(typeof v.key === 'string' ? { 'idempotency-key': v.key } : {}) };
      const started = await call('POST', `/v1/workflows/${encodeURIComponent(id!)}/enrollments:batch`, body, headers);
      if (started.status >= 400) return show(started, () => '');
      return follow(
        io,
        json,
        () => call('GET', `/v1/enrollment-batches/${started.body.jobId}`),
        (j) => (j.status === 'done' ? { done: j.total, total: j.total } : { done: j.processed + (j.total - j.accepted), total: j.total }),
        (j) => [`enrolled ${j.enrolled} of ${j.total}; ${j.failed} failed`, ...j.errors.map((e: any) => `  line ${e.line}: ${e.reason}`)].join('\n'),
        (j) => j.failed > 0,
      );
    }
    default:
      return undefined;
  }
}

/** Polls a job until it is done, drawing a progress bar on stderr; prints the summary (or the job's JSON). */
async function follow(
  io: Io,
  json: boolean,
  get: () => Promise<Answer>,
  progress: (j: any) => { done: number; total: number },
  summary: (j: any) => string,
  failed: (j: any) => boolean = (j) => j.failed > 0,
): Promise<number> {
  for (;;) {
    const a = await get();
    if (a.status >= 400) {
      io.stderr.write(`✖ ${a.status}: ${JSON.stringify(a.body)}\n`);
      return 1;
    }
    const p = progress(a.body);
    if (!json) io.stderr.write(`\r${bar(p.done, p.total)}`);
    if (p.done >= p.total) {
      if (!json) io.stderr.write('\n');
      io.stdout.write(json ? JSON.stringify(a.body, null, 2) + '\n' : summary(a.body) + '\n');
      return failed(a.body) ? 1 : 0;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
