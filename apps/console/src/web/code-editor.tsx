/**
 * An action's code: a plain labelled textarea until the editor's chunk has loaded (so typing can
 * start at once and nothing is lost if the chunk fails), then CodeMirror in its place.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { CodeEditorHandle } from './codemirror.ts';

export interface CodeError {
  line: number;
  column?: number;
  message: string;
}

export function CodeEditor(props: { id: string; label: string; value: string; onChange(text: string): void; error?: CodeError | undefined; invalid?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const handle = useRef<CodeEditorHandle>();
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  const [state, setState] = useState<'loading' | 'ready' | 'failed'>('loading');
  useEffect(() => {
    let cancelled = false;
    import('./codemirror.ts').then(
      ({ mountEditor }) => {
        if (cancelled || !host.current) return;
        host.current.textContent = '';
        handle.current = mountEditor(host.current, { value: props.value, label: props.label, describedBy: `${props.id}-help`, onChange: (t) => onChange.current(t) });
        setState('ready');
      },
      () => !cancelled && setState('failed'),
    );
    return () => {
      cancelled = true;
      handle.current?.destroy();
      handle.current = undefined;
    };
    // Mounted once per action; later values are pushed in below.
  }, []);
  useEffect(() => handle.current?.setValue(props.value), [props.value]);
  useEffect(() => handle.current?.showError(props.error), [props.error, state]);
  return (
    <div>
      <label id={`${props.id}-label`} for={state === 'ready' ? undefined : `${props.id}-text`}>
        {props.label}
      </label>
      <p id={`${props.id}-help`} class="muted">
        JavaScript: <code>exports.main = async (event, callback) =&gt; …</code>. In the editor, press Escape then Tab to leave it.
        {state === 'failed' ? ' (The editor could not load; a plain text box is shown.)' : ''}
      </p>
      <div class={`editor${props.invalid ? ' invalid' : ''}`} data-editor-state={state}>
        <div ref={host} />
        {state !== 'ready' ? (
          <textarea id={`${props.id}-text`} value={props.value} onInput={(e) => props.onChange(e.currentTarget.value)} spellcheck={false} rows={12} aria-describedby={`${props.id}-help`} />
        ) : null}
      </div>
      {props.error ? (
        <p class="field-error" role="alert">
          Line {props.error.line}
          {props.error.column ? `, column ${props.error.column}` : ''}: {props.error.message}
        </p>
      ) : null}
    </div>
  );
}
