/**
 * The bounds of JsWorkflows steps (`api.scheduleNextStep`, `api.waitForEvent`), written once: the sandbox checks a
 * call against them inside the step (so the step fails where the call is), the enrollment
 * service holds a run to the depth and branch caps. The operator may configure each
 * (`CODESTEP_STEP_*`); the defaults are JsWorkflows' documented ones where it documents them.
 */

/** What a step may ask for with `api.scheduleNextStep`, checked inside the step. */
export interface StepSchedulingBounds {
  /** Shortest delay, ms. @default 10000 (JsWorkflows: 10 s; tests may set 0) */
  minDelayMs: number;
  /** Longest delay, ms. @default 34560000000 (400 days) */
  maxDelayMs: number;
  /** Largest payload of one next step, characters of JSON. @default 262144 (256 KiB) */
  maxPayloadChars: number;
  /** Most scheduleNextStep and waitForEvent calls in one step (a fan-out). @default 1000 */
  maxNextSteps: number;
  /** Longest timeout of `api.waitForEvent`, ms (its shortest is `minDelayMs`). @default 2592000000 (JsWorkflows: 30 days) */
  maxWaitTimeoutMs: number;
  /**
   * The base of the resume URLs `api.waitForEvent` returns (`<base>/resume/<token>`): the
   * platform's public URL. @default 'http://127.0.0.1:8080'
   */
  resumeBaseUrl?: string;
}

/** What a whole run may grow to, held by the enrollment service. */
export interface RunBounds {
  /** Longest chain of scheduled steps (start: 0; a fan-out of 100 from start is depth 1). @default 100 */
  maxDepth: number;
  /** Most branches (steps scheduled) over the whole run. @default 10000 */
  maxBranches: number;
}

export type StepPolicy = StepSchedulingBounds & RunBounds;

export const DEFAULT_STEP_POLICY: StepPolicy = {
  minDelayMs: 10_000,
  maxDelayMs: 400 * 24 * 3600_000,
  maxPayloadChars: 256 * 1024,
  maxNextSteps: 1000,
  maxWaitTimeoutMs: 30 * 24 * 3600_000,
  maxDepth: 100,
  maxBranches: 10_000,
};

const UNITS: Record<string, number> = {
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3600_000,
  hr: 3600_000,
  hrs: 3600_000,
  hour: 3600_000,
  hours: 3600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
  w: 604_800_000,
  week: 604_800_000,
  weeks: 604_800_000,
};

/**
 * A step delay as JsWorkflows takes it: a number of seconds, or a duration string ("30 sec",
 * "5 min", "2 hr", "3 days", "2 weeks"), in ms; a string naming what is wrong otherwise. The
 * sandbox's entry part has its own copy of this rule (it runs from source text in the context);
 * a unit test holds the two to the same answers.
 */
export function parseStepDelay(delay: unknown): number | string {
  if (typeof delay === 'number') {
    if (!Number.isFinite(delay) || delay < 0) return `delay must be a number of seconds (0 or more) or a duration like "5 min", got ${String(delay)}`;
    return Math.round(delay * 1000);
  }
  if (typeof delay !== 'string') return `delay must be a number of seconds or a duration like "5 min", got ${delay === null ? 'null' : typeof delay}`;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(delay);
  const unit = match ? UNITS[(match[2] ?? '').toLowerCase() || 's'] : undefined;
  if (!match || unit === undefined) return `delay ${JSON.stringify(delay.slice(0, 40))} is not a duration: use seconds or "<n> sec|min|hr|days|weeks"`;
  return Math.round(Number(match[1]) * unit);
}

/** Milliseconds as the shortest readable duration ("10 s", "5 min", "400 days"). */
export function describeDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000} days`;
  if (ms % 3600_000 === 0 && ms > 0) return `${ms / 3600_000} hr`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000} min`;
  return `${ms / 1000} s`;
}
