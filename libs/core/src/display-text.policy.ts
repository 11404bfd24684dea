/**
 * The one rule for user text that the platform shows back (names of secrets, workflows, actions,
 * connections): no control characters and no bidirectional formatting characters. A C0/C1
 * control or DEL can rewrite a terminal or a log line; a bidirectional override or isolate makes
 * a name display as something else than it is (U+202E turns `exe.txt` around), so two names
 * that look the same can differ. Such names are refused when saved, never cleaned up silently.
 * HTML pages escape user text with {@link escapeHtml}.
 */

/** The bidirectional formatting characters refused in names, with their Unicode names. */
const BIDI_NAMES: ReadonlyMap<number, string> = new Map([
  [0x061c, 'ARABIC LETTER MARK'],
  [0x200e, 'LEFT-TO-RIGHT MARK'],
  [0x200f, 'RIGHT-TO-LEFT MARK'],
  [0x202a, 'LEFT-TO-RIGHT EMBEDDING'],
  [0x202b, 'RIGHT-TO-LEFT EMBEDDING'],
  [0x202c, 'POP DIRECTIONAL FORMATTING'],
  [0x202d, 'LEFT-TO-RIGHT OVERRIDE'],
  [0x202e, 'RIGHT-TO-LEFT OVERRIDE'],
  [0x2066, 'LEFT-TO-RIGHT ISOLATE'],
  [0x2067, 'RIGHT-TO-LEFT ISOLATE'],
  [0x2068, 'FIRST STRONG ISOLATE'],
  [0x2069, 'POP DIRECTIONAL ISOLATE'],
]);

const isControl = (code: number): boolean => code <= 0x1f || (code >= 0x7f && code <= 0x9f);
const hex = (code: number): string => `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * What makes `value` unsafe to show, as a phrase naming the character and its position (never
 * the value itself, which is what would mislead); undefined when it is safe. Callers prefix the
 * field: `name ${problem}`.
 */
export function unsafeTextProblem(value: string): string | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (isControl(code)) {
      return `contains the control character ${hex(code)} at position ${i + 1}: use printable characters only (no tabs, line breaks or escape codes)`;
    }
    const bidi = BIDI_NAMES.get(code);
    if (bidi !== undefined) {
      return `contains the bidirectional formatting character ${hex(code)} (${bidi}) at position ${i + 1}, which makes text display differently from what it is: remove it`;
    }
  }
  return undefined;
}

/** `text` as HTML text or attribute content: the five characters HTML gives meaning become numeric references. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
