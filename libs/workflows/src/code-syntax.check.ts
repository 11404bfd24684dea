/**
 * Save-time syntax check of an action's code, with a real parser (acorn, as the sandbox's module
 * rewriter uses): code that parses neither as a script (CommonJS, as HubSpot runs it) nor as a
 * module (`export class Workflow`, `import`) is refused when the workflow is saved, with the line
 * and column in the author's own code, instead of failing later at a wrapper's line.
 */
import { parse, type Options } from 'acorn';

const OPTIONS: Options = { ecmaVersion: 'latest', allowReturnOutsideFunction: true, allowHashBang: true };
/** Script-only failures that mean the text is a module: the module parse then says what is wrong. */
const MODULE_ONLY = /may appear only with 'sourceType: module'|outside a module|'await' outside|await is only valid/;

/** Undefined when the code parses; else `SyntaxError: <what> at line L, column C` (1-based). */
export function codeSyntaxProblem(code: string): string | undefined {
  let scriptError: unknown;
  try {
    parse(code, { ...OPTIONS, sourceType: 'script' });
    return undefined;
  } catch (error) {
    // Nested past acorn's own stack: left to the sandbox, which reports it.
    if (error instanceof RangeError) return undefined;
    scriptError = error;
  }
  try {
    parse(code, { ...OPTIONS, sourceType: 'module' });
    return undefined;
  } catch (moduleError) {
    if (moduleError instanceof RangeError) return undefined;
    const scriptMessage = String((scriptError as { message?: unknown }).message ?? scriptError);
    return describe(MODULE_ONLY.test(scriptMessage) ? moduleError : scriptError);
  }
}

function describe(error: unknown): string {
  const e = error as { message?: unknown; loc?: { line: number; column: number } };
  const text = String(e.message ?? error).replace(/ \(\d+:\d+\)$/, '');
  return e.loc ? `SyntaxError: ${text} at line ${e.loc.line}, column ${e.loc.column + 1}` : `SyntaxError: ${text}`;
}
