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

/** A pass over JSON text, value by value, that throws {@link Stop} at the first mistake. */
class JsonWalker {
  readonly #text: string;
  #i = 0;

  constructor(text: string) {
    this.#text = text;
  }

  /** The whole text: one value, then only whitespace. */
  document(): void {
    this.#value();
    this.#ws();
    if (this.#i < this.#text.length) this.#fail('end-of-input');
  }

  #ws(): void {
    while (this.#i < this.#text.length && ' \t\n\r'.includes(this.#text[this.#i] as string)) this.#i++;
  }

  #fail(expected: string): never {
    throw new Stop(this.#i, `Unexpected ${describe(this.#text, this.#i)}: expected ${expected}`);
  }

  #literal(word: string): void {
    for (const c of word) {
      if (this.#text[this.#i] !== c) this.#fail(`'${word}'`);
      this.#i++;
    }
  }

  #string(): void {
    const text = this.#text;
    this.#i++; // opening quote
    while (this.#i < text.length && text[this.#i] !== '"') {
      if (text[this.#i] === '\\') this.#i++;
      else if ((text.charCodeAt(this.#i) ?? 0) < 0x20) this.#fail('a closing quote for the string');
      this.#i++;
    }
    if (this.#i >= text.length) this.#fail('a closing quote for the string');
    this.#i++;
  }

  #number(): void {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.#text.slice(this.#i));
    if (!match || match[0] === '-' || match[0] === '') this.#fail('a number');
    this.#i += (match as RegExpExecArray)[0].length;
  }

  #object(): void {
    const text = this.#text;
    this.#i++;
    this.#ws();
    if (text[this.#i] === '}') {
      this.#i++;
      return;
    }
    for (;;) {
      this.#ws();
      if (text[this.#i] !== '"') this.#fail('a double-quoted field name');
      this.#string();
      this.#ws();
      if (text[this.#i] !== ':') this.#fail('a colon to separate field name and value');
      this.#i++;
      this.#value();
      this.#ws();
      if (text[this.#i] === ',') {
        this.#i++;
        continue;
      }
      if (text[this.#i] === '}') {
        this.#i++;
        return;
      }
      this.#fail("a comma or '}'");
    }
  }

  #array(): void {
    const text = this.#text;
    this.#i++;
    this.#ws();
    if (text[this.#i] === ']') {
      this.#i++;
      return;
    }
    for (;;) {
      this.#value();
      this.#ws();
      if (text[this.#i] === ',') {
        this.#i++;
        continue;
      }
      if (text[this.#i] === ']') {
        this.#i++;
        return;
      }
      this.#fail("a comma or ']'");
    }
  }

  #value(): void {
    this.#ws();
    const ch = this.#text[this.#i];
    if (ch === '{') return this.#object();
    if (ch === '[') return this.#array();
    if (ch === '"') return this.#string();
    if (ch === 't') return this.#literal('true');
    if (ch === 'f') return this.#literal('false');
    if (ch === 'n') return this.#literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return this.#number();
    this.#fail('a value');
  }
}

/** The first error in `text`, or undefined when it is valid JSON. */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  try {
    new JsonWalker(text).document();
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const lines = text.slice(0, error.offset).split('\n');
    return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1, reason: error.reason };
  }
}
