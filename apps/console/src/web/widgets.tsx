/** Shared pieces of the views: links that navigate without a reload, errors shown plainly, statuses. */
import type { ComponentChildren } from 'preact';
import { ApiError } from './api.ts';
import { useSession } from './hooks.ts';

export function Link(props: { href: string; children: ComponentChildren; class?: string; current?: boolean }) {
  const { navigate } = useSession();
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props.current ? 'page' : undefined}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

/** An error as the API gave it (its message, and its code), or a plain sentence for the rest. */
export function ErrorNote(props: { error: Error | undefined; what?: string }) {
  if (!props.error) return null;
  const e = props.error;
  const code = e instanceof ApiError ? e.code : '';
  return (
    <div class="alert" role="alert">
      {props.what ? <strong>{props.what}: </strong> : null}
      {e.message}
      {code && code !== 'UNREACHABLE' ? <span class="muted"> ({code})</span> : null}
    </div>
  );
}

export function Status(props: { value: string }) {
  return <span class={`status ${props.value}`}>{props.value || '—'}</span>;
}

export function Loading(props: { loading: boolean }) {
  return props.loading ? (
    <p class="muted" role="status">
      Loading…
    </p>
  ) : null;
}
