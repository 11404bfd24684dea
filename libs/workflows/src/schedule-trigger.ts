/**
 * Schedule triggers: a workflow enrolled on a clock, by a cron expression in an IANA time zone
 * (`{ "type": "schedule", "cron": "0 9 * * MON-FRI", "timezone": "Europe/Paris" }`) or at a
 * fixed interval (`{ "type": "schedule", "every": "15 min" }`). Pure functions: validation (each
 * problem names its field, `trigger.cron`), the next fire times, and the decision the scheduler
 * takes for a due schedule (fire, or skip what was missed while the platform was down).
 *
 * Tick times are deterministic, so every replica computes the same ones: cron ticks are the
 * expression's (croner; day-of-month and weekday combine with OR as in Vixie cron; a wall time
 * that a DST change skips fires at the shifted time, one that repeats fires once), interval ticks
 * are whole multiples of the interval since the UNIX epoch (`every: "15 min"` fires at :00, :15,
 * :30 and :45 UTC).
 */
import type { WorkflowTrigger } from '@codestep/contracts';
import { ValidationError, describeDuration, parseStepDelay } from '@codestep/core';
import { Cron } from 'croner';

export const MISSED_POLICIES = ['runOnce', 'skip'] as const;
export type MissedPolicy = (typeof MISSED_POLICIES)[number];
/** What becomes of ticks missed while the platform was down when a trigger does not say. */
export const DEFAULT_MISSED_POLICY: MissedPolicy = 'runOnce';

/** The operator's bounds on schedules. */
export interface ScheduleBounds {
  /** The shortest interval between two ticks, ms (`every`, and the gaps of a cron expression). @default 60000 (tests may set 1000) */
  minIntervalMs: number;
  /** How late a tick may be found and still be on time, ms; later, it was missed. @default 60000 */
  graceMs: number;
}

export const DEFAULT_SCHEDULE_BOUNDS: ScheduleBounds = { minIntervalMs: 60_000, graceMs: 60_000 };

/** The longest `every`: 400 days (rarer ticks are a cron expression's job). */
export const MAX_EVERY_MS = 400 * 86_400_000;

/** The fields of a trigger body. */
export const TRIGGER_FIELDS = ['type', 'cron', 'timezone', 'every', 'missed'] as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(path: string, message: string): never {
  throw new ValidationError(`${path}: ${message}`, { field: path });
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * A trigger as users send it, validated; `undefined` for none (absent or null). Throws a
 * ValidationError naming the field (`trigger.cron`, `trigger.timezone`, `trigger.every`, …).
 */
export function parseTrigger(raw: unknown, bounds: Pick<ScheduleBounds, 'minIntervalMs'> = DEFAULT_SCHEDULE_BOUNDS, path = 'trigger'): WorkflowTrigger | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) fail(path, 'must be an object like {"type": "schedule", "cron": "0 9 * * MON-FRI", "timezone": "Europe/Paris"} or {"type": "schedule", "every": "15 min"}');
  const unknown = Object.keys(raw).find((k) => !(TRIGGER_FIELDS as readonly string[]).includes(k));
  if (unknown !== undefined) fail(`${path}.${unknown}`, `is not a field here; the fields are ${TRIGGER_FIELDS.join(', ')}`);
  if (raw.type !== 'schedule') fail(`${path}.type`, 'must be "schedule" (webhook and HubSpot triggers are set with POST /v1/workflows/{id}/webhook and PUT /v1/workflows/{id}/hubspot-trigger)');
  const missed = raw.missed ?? DEFAULT_MISSED_POLICY;
  if (!(MISSED_POLICIES as readonly unknown[]).includes(missed)) fail(`${path}.missed`, `must be one of ${MISSED_POLICIES.join(', ')}`);
  if ((raw.cron === undefined) === (raw.every === undefined)) fail(path, 'give exactly one of "cron" (with an optional "timezone") or "every"');
  const min = describeDuration(bounds.minIntervalMs);
  if (raw.every !== undefined) {
    if (raw.timezone !== undefined) fail(`${path}.timezone`, 'goes with "cron" only: "every" ticks at whole multiples of the interval since the UNIX epoch');
    const ms = parseStepDelay(raw.every);
    if (typeof ms === 'string') fail(`${path}.every`, ms.replace(/^delay/, 'every'));
    if (ms < bounds.minIntervalMs) fail(`${path}.every`, `must be at least ${min} (the operator's minimum interval)`);
    if (ms > MAX_EVERY_MS) fail(`${path}.every`, `must be at most ${describeDuration(MAX_EVERY_MS)}; for rarer ticks use "cron"`);
    return { type: 'schedule', cron: '', timezone: '', every: String(raw.every).trim(), missed: missed as MissedPolicy };
  }
  if (typeof raw.cron !== 'string' || raw.cron.length > 200) fail(`${path}.cron`, 'must be a cron expression string like "0 9 * * MON-FRI" (at most 200 characters)');
  const timezone = raw.timezone ?? 'UTC';
  if (typeof timezone !== 'string' || !validTimeZone(timezone))
    fail(`${path}.timezone`, `${JSON.stringify(String(timezone).slice(0, 60))} is not an IANA time zone; use one like "Europe/Paris" or "UTC"`);
  const cron = raw.cron.trim().replace(/\s+/g, ' ');
  const fields = cron.split(' ').length;
  if (fields !== 5 && fields !== 6) fail(`${path}.cron`, `has ${fields} fields: use 5 (minute hour day-of-month month day-of-week) or 6 (seconds first)`);
  let job: Cron;
  try {
    job = new Cron(cron, { timezone, paused: true });
  } catch (error) {
    fail(`${path}.cron`, `${(error as Error).message.replace(/^CronPattern: /, '')}; use 5 fields like "0 9 * * MON-FRI"`);
  }
  const runs = job.nextRuns(12, new Date(0)).map((d) => d.getTime());
  if (runs.length === 0) fail(`${path}.cron`, 'never fires');
  const gap = runs.slice(1).reduce((m, t, i) => Math.min(m, t - runs[i]!), Infinity);
  if (gap < bounds.minIntervalMs) fail(`${path}.cron`, `fires ${describeDuration(gap)} apart: at least ${min} must separate two ticks (the operator's minimum interval)`);
  return { type: 'schedule', cron, timezone, every: '', missed: missed as MissedPolicy };
}

/** A trigger in the JSON shape users send (and the API shows). */
export function triggerToInput(t: WorkflowTrigger): Record<string, unknown> {
  return t.every
    ? { type: t.type, every: t.every, missed: t.missed || DEFAULT_MISSED_POLICY }
    : { type: t.type, cron: t.cron, timezone: t.timezone || 'UTC', missed: t.missed || DEFAULT_MISSED_POLICY };
}

/** The first `count` tick times strictly after `after` (UNIX ms). */
export function nextFireTimes(t: WorkflowTrigger, after: number, count: number): number[] {
  if (t.every) {
    const interval = parseStepDelay(t.every);
    if (typeof interval === 'string' || interval <= 0) return [];
    const first = (Math.floor(after / interval) + 1) * interval;
    return Array.from({ length: count }, (_, i) => first + i * interval);
  }
  return new Cron(t.cron, { timezone: t.timezone || 'UTC', paused: true }).nextRuns(count, new Date(after)).map((d) => d.getTime());
}

/** The first tick strictly after `after`, or undefined for none. */
export const nextFireTime = (t: WorkflowTrigger, after: number): number | undefined => nextFireTimes(t, after, 1)[0];

/** What the scheduler does with a schedule whose next tick `dueAt` has come. */
export type TickDecision =
  /** Start an enrollment for tick `tickAt`; `missed` older ticks collapse into it. */
  | { outcome: 'fired'; tickAt: number; missed: number; coveredUntil: number }
  /** Fire nothing: the `missed` ticks up to `coveredUntil` are skipped (`missed: "skip"`). */
  | { outcome: 'skipped'; tickAt: number; missed: number; coveredUntil: number };

/** At most this many due ticks are counted (a schedule down for years counts no further). */
const MAX_COUNTED = 10_000;

/**
 * The decision for a due schedule whose next tick is `dueAt`. A tick is on time while
 * `now - tick <= graceMs`: the earliest due tick, on time, fires alone (a scheduler running
 * behind fires each on-time tick, one by one). Ticks later than that were missed (the platform
 * was down): they never run one by one; with `runOnce` the latest of them fires once, counting
 * the others as missed, with `skip` they are all skipped. Undefined when nothing is due.
 */
export function decideTick(t: WorkflowTrigger, dueAt: number, now: number, graceMs: number): TickDecision | undefined {
  if (dueAt > now) return undefined;
  if (now - dueAt <= graceMs) return { outcome: 'fired', tickAt: dueAt, missed: 0, coveredUntil: dueAt };
  const { latest, due } = latestDue(t, dueAt, now - graceMs - 1);
  if ((t.missed || DEFAULT_MISSED_POLICY) === 'runOnce') return { outcome: 'fired', tickAt: latest, missed: due - 1, coveredUntil: latest };
  return { outcome: 'skipped', tickAt: latest, missed: due, coveredUntil: latest };
}

/** The latest tick in [dueAt, now] (dueAt being one) and how many there are (counted up to {@link MAX_COUNTED}). */
function latestDue(t: WorkflowTrigger, dueAt: number, now: number): { latest: number; due: number } {
  if (t.every) {
    const interval = parseStepDelay(t.every);
    if (typeof interval === 'string' || interval <= 0) return { latest: dueAt, due: 1 };
    const steps = Math.floor((now - dueAt) / interval);
    return { latest: dueAt + steps * interval, due: steps + 1 };
  }
  const job = new Cron(t.cron, { timezone: t.timezone || 'UTC', paused: true });
  let latest = dueAt;
  let due = 1;
  for (let next = job.nextRun(new Date(dueAt)); next && next.getTime() <= now && due < MAX_COUNTED; next = job.nextRun(next)) {
    latest = next.getTime();
    due++;
  }
  if (due >= MAX_COUNTED) latest = job.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? latest;
  return { latest, due };
}
