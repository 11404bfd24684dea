/**
 * Where a JSON text goes wrong, in the words HubSpot's (Jackson) parser uses:
 * `Invalid input JSON on line 1, column 26: Unexpected character ('}' (code 125)): expected a value`.
 * V8's own messages give no position for most mistakes, so this walks the text itself; it is only
 * called after `JSON.parse` has already failed.
 */

export interface JsonErrorLocation {
  line: number;
  column: number;
  reason: string;
}

class Stop extends Error {
  readonly offset: number;
  readonly reason: string;

  constructor(offset: number, reason: string) {
    super(reason);
    this.offset = offset;
    this.reason = reason;
  }
}

function describe(text: string, i: number): string {
  const ch = text[i];
  return ch === undefined ? 'end-of-input' : `character ('${ch}' (code ${ch.charCodeAt(0)}))`;
}

function walk(text: string): void {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const fail = (expected: string): never => {
    throw new Stop(i, `Unexpected ${describe(text, i)}: expected ${expected}`);
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail(`'${word}'`);
      i++;
    }
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') i++;
      else if ((text.charCodeAt(i) ?? 0) < 0x20) fail('a closing quote for the string');
      i++;
    }
    if (i >= text.length) fail('a closing quote for the string');
    i++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === '-' || match[0] === '') fail('a number');
    i += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('a double-quoted field name');
        string();
        ws();
        if (text[i] !== ':') fail('a colon to separate field name and value');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail("a comma or '}'");
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail("a comma or ']'");
      }
    }
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number();
    fail('a value');
  };
  value();
  ws();
  if (i < text.length) fail('end-of-input');
}

/** The first error in `text`, or undefined when it is valid JSON. */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  try {
    walk(text);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const lines = text.slice(0, error.offset).split('\n');
    return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1, reason: error.reason };
  }
}
