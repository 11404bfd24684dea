/**
 * The live tail: GET /v1/tail (server-sent events, read over fetch so the key goes in a header),
 * for the whole account, one workflow's runs, or one enrollment. A dropped stream (a server
 * restart) is reconnected, and the view says so.
 */
import { useEffect, useState } from 'preact/hooks';
import { useLoad, useSession } from '../hooks.ts';
import { hrefOf } from '../lib/routes.ts';
import { ErrorNote, Link } from '../widgets.tsx';

interface TailItem {
  n: number;
  type: string;
  enrollmentId: string;
  executionId: string;
  line: { level?: string; message?: string; at?: number | string } | null;
  receivedAt: string;
}

const KEEP = 500;

/** The tail's events, kept to the last 500; reconnects every 2 s while the stream is down. */
function useTail(enrollmentId: string, workflowId: string, paused: boolean) {
  const { api } = useSession();
  const [items, setItems] = useState<TailItem[]>([]);
  const [state, setState] = useState<'connecting' | 'live' | 'reconnecting' | 'paused'>('connecting');
  const [error, setError] = useState<Error | undefined>();
  useEffect(() => {
    if (paused) {
      setState('paused');
      return;
    }
    const ac = new AbortController();
    let n = 0;
    const run = async () => {
      while (!ac.signal.aborted) {
        setState((s) => (s === 'live' ? 'reconnecting' : s));
        try {
          const q = new URLSearchParams();
          if (enrollmentId) q.set('enrollmentId', enrollmentId);
          if (workflowId) q.set('workflowId', workflowId);
          const stream = api.events(q.size ? `/v1/tail?${q}` : '/v1/tail', ac.signal, (type, data) => {
            const parsed = JSON.parse(data) as Omit<TailItem, 'n' | 'type' | 'receivedAt'>;
            setItems((xs) => [...xs.slice(-(KEEP - 1)), { ...parsed, n: ++n, type, receivedAt: new Date().toISOString() }]);
          });
          setState('live');
          setError(undefined);
          await stream;
        } catch (e) {
          if (ac.signal.aborted) return;
          setError(e instanceof Error ? e : new Error(String(e)));
        }
        if (ac.signal.aborted) return;
        setState('reconnecting');
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    void run();
    return () => ac.abort();
  }, [enrollmentId, workflowId, paused]);
  return { items, state, error, clear: () => setItems([]) };
}

export function TailView(props: { enrollmentId: string; workflowId: string }) {
  const { api, navigate } = useSession();
  const [paused, setPaused] = useState(false);
  const { items, state, error, clear } = useTail(props.enrollmentId, props.workflowId, paused);
  const workflows = useLoad(() => api.get<{ workflows: { id: string; name: string }[] }>('/v1/workflows'), []);
  const name = workflows.data?.workflows.find((w) => w.id === props.workflowId)?.name ?? props.workflowId;
  return (
    <>
      <h1>Live tail{props.enrollmentId ? ` of ${props.enrollmentId}` : props.workflowId ? ` of ${name}` : ''}</h1>
      {props.enrollmentId ? null : (
        <div>
          <label for="tail-workflow">Runs of</label>
          <select id="tail-workflow" value={props.workflowId} onChange={(e) => navigate(hrefOf({ name: 'tail', enrollmentId: '', workflowId: e.currentTarget.value }))}>
            <option value="">every workflow</option>
            {(workflows.data?.workflows ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <p class="row">
        <span role="status" class={`status ${state === 'live' ? 'completed' : 'running'}`}>
          {state === 'live' ? 'Live' : state === 'paused' ? 'Paused' : state === 'connecting' ? 'Connecting…' : 'Disconnected, reconnecting…'}
        </span>
        <button type="button" class="secondary" onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" class="secondary" onClick={clear}>
          Clear
        </button>
        {props.enrollmentId ? <Link href={hrefOf({ name: 'enrollment', id: props.enrollmentId })}>Open its timeline</Link> : null}
        {props.enrollmentId || props.workflowId ? <Link href="/tail">Tail every enrollment</Link> : null}
      </p>
      <ErrorNote error={error} what="The tail stopped" />
      {items.length === 0 ? <p class="muted">Waiting for runs… Enroll an object to see its steps here as they happen.</p> : null}
      <table>
        <caption class="sr-only">Events as they happen, oldest first</caption>
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Event</th>
            <th scope="col">Enrollment</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody aria-live="polite">
          {items.map((i) => (
            <tr key={i.n} data-event={i.type}>
              <td>{new Date(i.receivedAt).toLocaleTimeString()}</td>
              <td>{i.type}</td>
              <td>
                <Link href={hrefOf({ name: 'enrollment', id: i.enrollmentId })}>{i.enrollmentId}</Link>
              </td>
              <td>{i.line ? `[${i.line.level ?? 'log'}] ${i.line.message ?? ''}` : i.executionId ? <code>{i.executionId}</code> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
