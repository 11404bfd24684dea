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
const syntaxErrors = linter(
  (view) => {
    const found: Diagnostic[] = [];
    syntaxTree(view.state).iterate({
      enter: (node) => {
        if (!node.type.isError || found.length >= 5) return;
        const line = view.state.doc.lineAt(node.from);
        found.push({ from: node.from, to: Math.max(node.to, Math.min(node.from + 1, line.to)), severity: 'error', source: 'syntax', message: `Syntax error on line ${line.number}` });
      },
    });
    return found;
  },
  { delay: 400 },
);

export interface CodeEditorHandle {
  setValue(text: string): void;
  /** Marks a 1-based line (and column) with `message`; undefined clears it. */
  showError(error: { line: number; column?: number; message: string } | undefined): void;
  destroy(): void;
}

export function mountEditor(parent: HTMLElement, options: { value: string; label: string; describedBy?: string; onChange(text: string): void }): CodeEditorHandle {
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
          if (u.docChanged) options.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setValue(text) {
      if (text !== view.state.doc.toString()) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    },
    showError(error) {
      const diagnostics: Diagnostic[] = [];
      if (error) {
        const doc = view.state.doc;
        const line = doc.line(Math.min(Math.max(1, error.line), doc.lines));
        const from = Math.min(line.from + Math.max(0, (error.column ?? 1) - 1), line.to);
        diagnostics.push({ from, to: Math.max(from, line.to), severity: 'error', message: error.message });
      }
      view.dispatch(setDiagnostics(view.state, diagnostics));
    },
    destroy: () => view.destroy(),
  };
}
