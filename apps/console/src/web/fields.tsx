/**
 * The views' form fields and the messages about them, in one place: a label, the control, its
 * hint and the API's refusal of it, tied together for assistive technology (`aria-describedby`
 * names the hint and the error, `aria-invalid` marks a refused field, an error is an alert), and
 * the notice a form shows once done. Every view's fields use these, so a refused field looks and
 * reads the same everywhere.
 */
import type { ComponentChildren } from 'preact';

/** What a field's control carries: its id, and the aria attributes that name its hint and error. */
export interface FieldControl {
  id: string;
  'aria-invalid': 'true' | undefined;
  'aria-describedby': string | undefined;
}

export interface FieldProps {
  id: string;
  label: string;
  /** A line under the control saying what to type. */
  hint?: string | undefined;
  /** The API's refusal of this field (shown under it, and the control marked invalid). */
  error?: string | undefined;
  /** The control, given its id and aria attributes to spread on it. */
  children: (control: FieldControl) => ComponentChildren;
}

/** The aria attributes of a field's control with this hint and error. */
export function fieldControl(id: string, hint: string | undefined, error: string | undefined): FieldControl {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { id, 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described || undefined };
}

/** A labelled control with its hint and its error. */
export function Field(props: FieldProps) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      {props.children(fieldControl(props.id, props.hint, props.error))}
      {props.hint ? (
        <div id={`${props.id}-hint`} class="muted">
          {props.hint}
        </div>
      ) : null}
      <FieldError id={`${props.id}-error`} message={props.error} />
    </div>
  );
}

export function TextField(props: { id: string; label: string; value: string; onInput(v: string): void; error?: string | undefined; hint?: string; type?: string; list?: string; maxLength?: number }) {
  return (
    <Field id={props.id} label={props.label} hint={props.hint} error={props.error}>
      {(control) => <input {...control} type={props.type ?? 'text'} list={props.list} maxLength={props.maxLength} value={props.value} onInput={(e) => props.onInput(e.currentTarget.value)} />}
    </Field>
  );
}

export function SelectField<T extends string>(props: {
  id: string;
  label: string;
  value: T;
  options: readonly (readonly [T, string])[];
  onChange(v: T): void;
  error?: string | undefined;
  hint?: string;
}) {
  return (
    <Field id={props.id} label={props.label} hint={props.hint} error={props.error}>
      {(control) => (
        <select {...control} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as T)}>
          {props.options.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** The API's refusal of a field or a group of fields (an alert, so it is read out when it appears); nothing without a message. */
export function FieldError(props: { message: string | undefined; id?: string }) {
  if (!props.message) return null;
  return (
    <p id={props.id} class="field-error" role="alert">
      {props.message}
    </p>
  );
}

/** What a form did ("Saved: version 3."), read out politely; nothing when empty. */
export function Notice(props: { message: string }) {
  if (!props.message) return null;
  return (
    <p class="notice" role="status">
      {props.message}
    </p>
  );
}
