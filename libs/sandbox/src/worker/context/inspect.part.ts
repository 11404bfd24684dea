/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: Node-like formatting of console arguments (`%s %d %i %f %j %o %O %c`,
 * `util.inspect`-style objects, 16 KiB at most per line). It only reads values, through the
 * intrinsics captured before user code ran, and never throws.
 */
import type { ContextCore } from './core.part.ts';

/** The console's formatting functions (a context-realm object). */
export interface Formatter {
  /** A value as `util.inspect` would print it (strings quoted when `nested`). */
  inspect: (value: unknown, depth: number, seen: unknown[], nested: boolean) => string;
  /** Console arguments as one line, `printf`-style when the first is a string. */
  format: (args: unknown[]) => string;
}

/** Runs in the context (from its source text). */
export function inspectPart(core: ContextCore): Formatter {
  'use strict';
  const { reflectApply, StringCtor, ErrorCtor, MapCtor, PromiseCtor, isArray, objectKeys, slice, join, readProperty, safeString, isObjectLike } = core;
  const getPrototypeOf = Object.getPrototypeOf;
  const SetCtor = Set;
  const mathMin = Math.min;
  const stringReplace = String.prototype.replace;
  const stringStartsWith = core.stringStartsWith;
  const dateToISOString = Date.prototype.toISOString;
  const dateGetTime = Date.prototype.getTime;
  const regExpToString = RegExp.prototype.toString;
  const symbolToString = Symbol.prototype.toString;
  const functionToString = Function.prototype.toString;
  // The formatting functions are made on the first line logged (most executions log nothing);
  // the intrinsics they use are captured above, before user code runs.
  const build = (): Formatter => {
    const MAX_FORMATTED = 16 * 1024;
    const quote = (s: string): string => `'${reflectApply(stringReplace, s, [/'/g, "\\'"]) as string}'`;

    const inspectFunction = (value: unknown): string => {
      let source = '';
      try {
        source = reflectApply(functionToString, value, []) as string;
      } catch {
        // a Proxy of a function: fine, it prints as a function
      }
      const name = readProperty(value, 'name');
      const label = typeof name === 'string' && name !== '' ? `: ${name}` : ' (anonymous)';
      return reflectApply(stringStartsWith, source, ['class']) ? `[class${label === ' (anonymous)' ? ' (anonymous)' : ' ' + (name as string)}]` : `[Function${label}]`;
    };
    const inspectPrimitive = (value: unknown, nested: boolean): string | null => {
      switch (typeof value) {
        case 'string':
          return nested ? quote(value.length > 1000 ? slice(value, 0, 1000) + '…' : value) : value;
        case 'number':
          return value === 0 && 1 / value < 0 ? '-0' : StringCtor(value);
        case 'bigint':
          return `${StringCtor(value)}n`;
        case 'symbol':
          return reflectApply(symbolToString, value, []) as string;
        case 'undefined':
          return 'undefined';
        case 'boolean':
          return value ? 'true' : 'false';
        case 'function':
          return inspectFunction(value);
      }
      return value === null ? 'null' : null;
    };
    /** Errors, dates and regular expressions, printed as themselves; null for anything else. */
    const inspectAtom = (object: Record<string, unknown>): string | null => {
      if (object instanceof ErrorCtor || (isObjectLike(object) && typeof readProperty(object, 'stack') === 'string' && typeof readProperty(object, 'message') === 'string')) {
        const stack = readProperty(object, 'stack');
        if (typeof stack === 'string') return stack;
        return `${safeString(readProperty(object, 'name'))}: ${safeString(readProperty(object, 'message'))}`;
      }
      if (object instanceof Date) {
        const time = reflectApply(dateGetTime, object, []) as number;
        return time === time ? (reflectApply(dateToISOString, object, []) as string) : 'Invalid Date';
      }
      if (object instanceof RegExp) return reflectApply(regExpToString, object, []) as string;
      return null;
    };
    const inspectArray = (object: unknown[], depth: number, seen: unknown[]): string => {
      const parts: string[] = [];
      const length = object.length;
      const shown = mathMin(length, 100);
      for (let i = 0; i < shown; i++) parts[parts.length] = inspect(object[i], depth + 1, seen, true);
      if (length > shown) parts[parts.length] = `... ${length - shown} more items`;
      return parts.length === 0 ? '[]' : `[ ${join(parts, ', ')} ]`;
    };
    const inspectCollection = (object: object, depth: number, seen: unknown[]): string | null => {
      if (object instanceof MapCtor) {
        const parts: string[] = [];
        (object as Map<unknown, unknown>).forEach((v, k) => {
          if (parts.length < 100) parts[parts.length] = `${inspect(k, depth + 1, seen, true)} => ${inspect(v, depth + 1, seen, true)}`;
        });
        return `Map(${(object as Map<unknown, unknown>).size}) {${parts.length ? ' ' + join(parts, ', ') + ' ' : ''}}`;
      }
      if (object instanceof SetCtor) {
        const parts: string[] = [];
        (object as Set<unknown>).forEach((v) => {
          if (parts.length < 100) parts[parts.length] = inspect(v, depth + 1, seen, true);
        });
        return `Set(${(object as Set<unknown>).size}) {${parts.length ? ' ' + join(parts, ', ') + ' ' : ''}}`;
      }
      if (object instanceof PromiseCtor) return 'Promise { <pending or settled> }';
      return null;
    };
    const inspectPlain = (object: Record<string, unknown>, depth: number, seen: unknown[]): string => {
      const keys = objectKeys(object);
      const parts: string[] = [];
      const shown = mathMin(keys.length, 100);
      let length = 0;
      for (let i = 0; i < shown && length < MAX_FORMATTED; i++) {
        const key = keys[i] as string;
        const shownKey = /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
        const part = `${shownKey}: ${inspect(object[key], depth + 1, seen, true)}`;
        length += part.length;
        parts[parts.length] = part;
      }
      if (keys.length > shown) parts[parts.length] = `... ${keys.length - shown} more properties`;
      const proto = getPrototypeOf(object) as { constructor?: { name?: unknown } } | null;
      const ctorName = proto === null ? '[Object: null prototype] ' : readProperty(readProperty(proto, 'constructor'), 'name');
      const prefix = typeof ctorName === 'string' && ctorName !== 'Object' && ctorName !== '' ? (ctorName[0] === '[' ? ctorName : `${ctorName} `) : '';
      return parts.length === 0 ? `${prefix}{}` : `${prefix}{ ${join(parts, ', ')} }`;
    };
    const inspect = (value: unknown, depth: number, seen: unknown[], nested: boolean): string => {
      const primitive = inspectPrimitive(value, nested);
      if (primitive !== null) return primitive;
      const object = value as Record<string, unknown>;
      for (let i = 0; i < seen.length; i++) if (seen[i] === object) return '[Circular]';
      try {
        const atom = inspectAtom(object);
        if (atom !== null) return atom;
        if (depth > 2) return isArray(object) ? '[Array]' : '[Object]';
        seen[seen.length] = object;
        const out = isArray(object) ? inspectArray(object, depth, seen) : (inspectCollection(object, depth, seen) ?? inspectPlain(object, depth, seen));
        seen.length = seen.length - 1;
        return out;
      } catch {
        return '[object]';
      }
    };
    /** `printf`-style formatting over `inspect`. */
    const formatWith = (inspectValue: Formatter['inspect']): Formatter['format'] => {
      const NumberCtor = core.NumberCtor;
      const mathFloor = core.mathFloor;
      const jsonStringify = core.jsonStringify;
      const substitute = (spec: string, arg: unknown): string => {
        if (spec === 's') return typeof arg === 'string' ? arg : inspectValue(arg, 1, [], false);
        if (spec === 'd') return typeof arg === 'bigint' ? `${StringCtor(arg)}n` : StringCtor(NumberCtor(arg));
        if (spec === 'i') return StringCtor(mathFloor(NumberCtor(arg)));
        if (spec === 'f') return StringCtor(NumberCtor(arg));
        if (spec === 'j') {
          try {
            return jsonStringify(arg);
          } catch {
            return '[Circular]';
          }
        }
        return spec !== 'c' ? inspectValue(arg, 0, [], true) : '';
      };
      return (args: unknown[]): string => {
        const first = args.length > 0 ? args[0] : '';
        let rest = 1;
        let out = '';
        if (typeof first === 'string' && args.length > 1) {
          let text = '';
          let i = 0;
          while (i < first.length) {
            const ch = first[i];
            if (ch === '%' && i + 1 < first.length) {
              const spec = first[i + 1] as string;
              if (spec === '%') {
                text += '%';
                i += 2;
                continue;
              }
              if (rest < args.length && (spec === 's' || spec === 'd' || spec === 'i' || spec === 'f' || spec === 'j' || spec === 'o' || spec === 'O' || spec === 'c')) {
                text += substitute(spec, args[rest++]);
                i += 2;
                continue;
              }
            }
            text += ch;
            i++;
            if (text.length > MAX_FORMATTED) break;
          }
          out = text;
        } else {
          out = inspectValue(first, 0, [], false);
        }
        for (let i = rest; i < args.length && out.length < MAX_FORMATTED; i++) {
          const arg = args[i];
          out += ' ' + (typeof arg === 'string' ? arg : inspectValue(arg, 0, [], false));
        }
        return out.length > MAX_FORMATTED ? slice(out, 0, MAX_FORMATTED) : out;
      };
    };
    const made = Object.create(null) as Formatter;
    made.inspect = inspect;
    made.format = formatWith(inspect);
    return made;
  };
  let formatter: Formatter | undefined;
  const part = Object.create(null) as Formatter;
  part.inspect = (value, depth, seen, nested) => (formatter ??= build()).inspect(value, depth, seen, nested);
  part.format = (args) => (formatter ??= build()).format(args);
  return part;
}
