/**
 * The workflow's schedule trigger in the editor: none, a cron expression in a time zone, or a
 * fixed interval, and what becomes of ticks missed while the platform was down; saved with the
 * workflow (its `trigger`). For a saved workflow, its schedule as the enrollment service fires it
 * (GET /v1/workflows/{id}/schedule): armed or not, the next 5 fire times, the last tick.
 */
import { useLoad, useSession, when } from '../hooks.ts';
import { emptySchedule, MISSED_POLICIES, type ScheduleForm } from '../lib/workflow-form.ts';
import { FieldError, SelectField, TextField } from '../fields.tsx';
import { ErrorNote } from '../widgets.tsx';

interface Schedule {
  trigger: Record<string, unknown> | null;
  status: string;
  armed: boolean;
  nextFireTimes: string[];
  lastTick: { tickAt: string; outcome: string; enrollmentId: string | null; missed: number } | null;
}

const MISSED_LABELS: Record<(typeof MISSED_POLICIES)[number], string> = {
  runOnce: 'run once (the latest missed tick fires, the others are counted)',
  skip: 'skip (none of them fires)',
};

const KINDS: readonly (readonly [ScheduleForm['kind'], string])[] = [
  ['none', 'none (manual, API, webhook)'],
  ['cron', 'on a cron expression'],
  ['every', 'at a fixed interval'],
];

/** The time zones the browser knows, for the time zone field's suggestions. */
function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

export function ScheduleTrigger(props: { value: ScheduleForm | undefined; onChange(s: ScheduleForm): void; errorOf(field: string): string | undefined; workflowId?: string; savedVersion?: number }) {
  const s = props.value ?? emptySchedule(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const set = (patch: Partial<ScheduleForm>) => props.onChange({ ...s, ...patch });
  const whole = props.errorOf('trigger') ?? props.errorOf('trigger.type');
  return (
    <fieldset class={`card${whole ? ' invalid' : ''}`} aria-describedby={whole ? 'trigger-error' : undefined}>
      <legend>Trigger</legend>
      <p class="muted">Every workflow can be enrolled from this page, by the API and by its webhook URL (below, once saved). A schedule also enrolls it on a clock while it is enabled.</p>
      <div class="row">
        <SelectField id="trigger-kind" label="Schedule" value={s.kind} options={KINDS} onChange={(kind) => set({ kind })} />
        {s.kind === 'cron' ? (
          <>
            <TextField
              id="trigger-cron"
              label="Cron expression"
              value={s.cron}
              onInput={(cron) => set({ cron })}
              error={props.errorOf('trigger.cron')}
              hint='5 fields: minute hour day-of-month month day-of-week, like "0 9 * * MON-FRI"'
            />
            <div>
              <TextField
                id="trigger-timezone"
                label="Time zone"
                value={s.timezone}
                onInput={(timezone) => set({ timezone })}
                error={props.errorOf('trigger.timezone')}
                hint='IANA, like "Europe/Paris"'
                list="time-zones"
              />
              <datalist id="time-zones">
                {timeZones().map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </div>
          </>
        ) : null}
        {s.kind === 'every' ? (
          <TextField
            id="trigger-every"
            label="Every"
            value={s.every}
            onInput={(every) => set({ every })}
            error={props.errorOf('trigger.every')}
            hint='like "15 min", "1 h" or "1 d"; ticks at whole multiples since 1970 UTC'
          />
        ) : null}
        {s.kind !== 'none' ? (
          <SelectField
            id="trigger-missed"
            label="Ticks missed while down"
            value={s.missed as (typeof MISSED_POLICIES)[number]}
            options={MISSED_POLICIES.map((m) => [m, MISSED_LABELS[m]] as const)}
            onChange={(missed) => set({ missed })}
            error={props.errorOf('trigger.missed')}
          />
        ) : null}
      </div>
      <FieldError id="trigger-error" message={whole} />
      {props.workflowId ? <NextFireTimes workflowId={props.workflowId} savedVersion={props.savedVersion ?? 0} /> : null}
    </fieldset>
  );
}

/** The saved schedule, as it will fire. */
function NextFireTimes(props: { workflowId: string; savedVersion: number }) {
  const { api } = useSession();
  const s = useLoad(() => api.get<Schedule>(`/v1/workflows/${encodeURIComponent(props.workflowId)}/schedule`), [props.workflowId, props.savedVersion]);
  if (s.error) return <ErrorNote error={s.error} what="Schedule" />;
  const d = s.data;
  if (!d) return null;
  if (!d.trigger) return <p class="muted">The saved version has no schedule.</p>;
  const tz = typeof d.trigger.timezone === 'string' ? d.trigger.timezone : '';
  return (
    <div>
      <h3 id="fire-times-title">Saved schedule: {d.armed ? 'armed' : `not armed (the workflow is ${d.status})`}</h3>
      {d.nextFireTimes.length ? (
        <ol aria-labelledby="fire-times-title" class="fire-times">
          {d.nextFireTimes.map((t) => (
            <li key={t}>
              <time dateTime={t}>{when(t)}</time>
              {tz && tz !== 'UTC' ? <span class="muted"> · {new Date(t).toLocaleString(undefined, { timeZone: tz, timeZoneName: 'short' })}</span> : null}
              <span class="muted"> · {t}</span>
            </li>
          ))}
        </ol>
      ) : (
        <p class="muted">No fire time ahead.</p>
      )}
      {d.lastTick ? (
        <p class="muted">
          Last tick {when(d.lastTick.tickAt)}: {d.lastTick.outcome}
          {d.lastTick.missed ? `, ${d.lastTick.missed} missed` : ''}
          {d.lastTick.enrollmentId ? ` (enrollment ${d.lastTick.enrollmentId})` : ''}
        </p>
      ) : null}
    </div>
  );
}
