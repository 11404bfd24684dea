/**
 * The code editor (CodeMirror 6), in its own chunk: loaded when an action's code is first shown,
 * so the console's first load stays small. JavaScript highlighting, line numbers, the usual
 * keys (Tab moves focus out with Escape first, as CodeMirror's accessibility guide says), and the
 * save-time error shown at its line.
 */
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { javascript } from '@codemirror/lang-javascript';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting, syntaxTree } from '@codemirror/language';
import { linter, lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { EditorState } from '@codemirror/state';
import { EditorView, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers } from '@codemirror/view';

/** Syntax errors as the JavaScript parser sees them while typing (the first few), before any save. */
function syntaxErrorsOf(state: EditorState): Diagnostic[] {
  const found: Diagnostic[] = [];
  syntaxTree(state).iterate({
    enter: (node) => {
      if (!node.type.isError || found.length >= 5) return;
      const line = state.doc.lineAt(node.from);
      found.push({ from: node.from, to: Math.max(node.to, Math.min(node.from + 1, line.to)), severity: 'error', source: 'syntax', message: `Syntax error on line ${line.number}` });
    },
  });
  return found;
}

type ShownError = { line: number; column?: number; message: string };

/** The diagnostic of an error reported for a line (and column) of the code. */
function errorAt(state: EditorState, error: ShownError): Diagnostic {
  const line = state.doc.line(Math.min(Math.max(1, error.line), state.doc.lines));
  const from = Math.min(line.from + Math.max(0, (error.column ?? 1) - 1), line.to);
  return { from, to: Math.max(from, line.to), severity: 'error', message: error.message };
}

export interface CodeEditorHandle {
  setValue(text: string): void;
  /** Marks a 1-based line (and column) with `message`; undefined clears it. */
  showError(error: { line: number; column?: number; message: string } | undefined): void;
  destroy(): void;
}

export function mountEditor(parent: HTMLElement, options: { value: string; label: string; describedBy?: string; onChange(text: string): void }): CodeEditorHandle {
  // The error shown at its line (a save's or a test's) until the code changes. The linter's runs keep
  // it: a run that came after it (the first one, 400 ms after the editor opened) used to wipe it out.
  let shown: ShownError | undefined;
  const diagnostics = (state: EditorState) => [...syntaxErrorsOf(state), ...(shown ? [errorAt(state, shown)] : [])];
  const syntaxErrors = linter((view) => diagnostics(view.state), { delay: 400 });
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        javascript(),
        lintGutter(),
        syntaxErrors,
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ 'aria-label': options.label, ...(options.describedBy ? { 'aria-describedby': options.describedBy } : {}) }),
        EditorView.updateListener.of((u) => {
          if (!u.docChanged) return;
          shown = undefined;
          options.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setValue(text) {
      if (text !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    showError(error) {
      shown = error;
      view.dispatch(setDiagnostics(view.state, diagnostics(view.state)));
    },
    destroy: () => view.destroy(),
  };
}
