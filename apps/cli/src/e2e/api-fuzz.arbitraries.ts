/**
 * Generators of hostile requests for the API fuzz test: for one operation of the OpenAPI
 * document, a path (real ids, odd ids, malformed percent-encoding), query values (negative,
 * huge, fractional, non-numeric, outside the enum), a body (the operation's valid body, mutated:
 * wrong types, unknown fields, deep nesting, huge strings near the body cap; or invalid JSON),
 * headers and an API key that is right, wrong or absent.
 */
import fc from 'fast-check';

/** One operation of the OpenAPI document. */
export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** The template, e.g. `/v1/workflows/{id}`. */
  path: string;
  /** Names and schemas of its query parameters. */
  query: Array<{ name: string; schema: { type?: string; enum?: string[] } }>;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
}

export interface FuzzContext {
  apiKey: string;
  /** Real values of path parameters, by `{name}` in the template and its path (e.g. `id@/v1/enrollments/{id}`). */
  realParam(path: string, name: string): string;
  /** A valid body of the operation, to mutate. */
  validBody(op: Operation): unknown;
}

/** The body cap of the gateway, bytes. */
const BODY_CAP = 1024 * 1024;

/** Segments a client may send (bytes the HTTP client accepts unencoded), including malformed escapes. */
const ODD_SEGMENTS = [
  '%',
  '%%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AF',
  '%FF',
  '%00',
  '%0A',
  '%2F',
  '%2e%2e',
  '..',
  '.',
  '-1',
  '0',
  '4294967296',
  '9007199254740993',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  '%F0%9F%98%80',
  "'or'1'='1",
  '$where',
  '{"$gt":""}',
  'a'.repeat(5000),
];

const segment = (real: string): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(real) },
    { weight: 3, arbitrary: fc.constantFrom(...ODD_SEGMENTS) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9%._~!$&'()*+,;=:@-]{0,40}$/) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_SEGMENTS).map((odd) => real + odd) },
  );

const NUMBERISH = ['-1', '0', '1', '50', '5000', '5001', '2147483648', '4294967295', '4294967296', '9007199254740993', '1e3', '1.5', '-0', '0x10', ' 5', 'NaN', 'Infinity', '', 'abc', '%zz'];

const queryValue = (schema: { enum?: string[] }): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom(...NUMBERISH),
    fc.constantFrom(...(schema.enum ?? ['x']), 'RUNNING', 'done', 'running ', 'unknown'),
    fc.string({ maxLength: 30 }).map(encodeURIComponent),
    fc.stringMatching(/^[A-Za-z0-9%+=&]{0,20}$/),
  );

function query(op: Operation): fc.Arbitrary<string> {
  const known = op.query.map((p) =>
    fc.option(
      queryValue(p.schema).map((v) => `${encodeURIComponent(p.name)}=${v}`),
      { nil: undefined },
    ),
  );
  const extra = fc.option(
    fc.tuple(fc.constantFrom('limit', 'version', 'status', 'x', 'state', 'code', '__proto__'), fc.constantFrom(...NUMBERISH)).map(([k, v]) => `${k}=${v}`),
    { nil: undefined },
  );
  return fc.tuple(fc.tuple(...known), extra).map(([parts, more]) => {
    const all = [...parts, more].filter((p): p is string => p !== undefined);
    return all.length ? `?${all.join('&')}` : '';
  });
}

function deep(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Sets `value` at a random key of a (possibly nested) object, or returns `value` itself. */
function withValueAt(base: unknown, keys: string[], value: unknown): unknown {
  if (keys.length === 0 || typeof base !== 'object' || base === null || Array.isArray(base)) return value;
  const [k, ...rest] = keys as [string, ...string[]];
  return { ...base, [k]: withValueAt((base as Record<string, unknown>)[k], rest, value) };
}

function keyPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => keyPaths(v, [...prefix, k]))];
}

function bodyText(op: Operation, ctx: FuzzContext): fc.Arbitrary<string | undefined> {
  const valid = ctx.validBody(op);
  const at = fc.constantFrom(...keyPaths(valid));
  const json = (v: unknown) => JSON.stringify(v);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(json(valid)) },
    { weight: 3, arbitrary: fc.tuple(at, fc.jsonValue({ maxDepth: 3 })).map(([keys, v]) => json(withValueAt(valid, keys, v))) },
    { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }).map((extra) => json({ ...extra, ...(valid as object) })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(at, fc.constantFrom(5, 120, 127, 128, 129, 1_000, 100_000), fc.constantFrom('array' as const, 'object' as const))
        .map(([keys, depth, kind]) => json(withValueAt(valid, keys, '__DEEP__')).replace('"__DEEP__"', deep(depth, kind))),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(at, fc.constantFrom(65_001, 300_000, BODY_CAP - 200, BODY_CAP + 10))
        .map(([keys, size]) => json(withValueAt(valid, keys, '__HUGE__')).replace('"__HUGE__"', `"${'x'.repeat(size)}"`)),
    },
    { weight: 2, arbitrary: fc.constantFrom('{', '{"a":}', "{'a':1}", 'NaN', '[1,]', '\uFEFF{}', 'null', '""', '[]', '{"__proto__":{"x":1}}') },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const printable = fc.stringMatching(/^[\x21-\x7e]{0,40}$/);

function headers(ctx: FuzzContext): fc.Arbitrary<Record<string, string>> {
  const wrong: Array<Record<string, string>> = [{ authorization: 'Bearer csk_nope' }, { authorization: 'Bearer ' }, { authorization: 'Basic Zm9vOmJhcg==' }, { 'x-api-key': 'nope' }];
  const auth = fc.oneof(
    { weight: 8, arbitrary: fc.constant<Record<string, string>>({ authorization: `Bearer ${ctx.apiKey}` }) },
    { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
    { weight: 1, arbitrary: fc.constantFrom(...wrong) },
  );
  const extra = fc.record(
    {
      'idempotency-key': fc.oneof(printable, fc.constant('k'.repeat(300))),
      'content-type': fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'),
    },
    { requiredKeys: [] },
  );
  return fc.tuple(auth, extra).map(([a, e]) => ({ 'content-type': 'application/json', ...e, ...a }));
}

/** Requests for one operation. */
export function requestsFor(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const names = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const segments = fc.tuple(...names.map((n) => segment(ctx.realParam(op.path, n))));
  const hasBody = op.method === 'POST' || op.method === 'PUT';
  return fc.record({ segments, query: query(op), body: hasBody ? bodyText(op, ctx) : fc.constant(undefined), headers: headers(ctx) }).map((r) => {
    let i = 0;
    const path = op.path.replace(/\{[^}]+\}/g, () => r.segments[i++]!) + r.query;
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const shown = body ? `${body.length} bytes: ${JSON.stringify(body.subarray(0, 200).toString())}` : 'none';
    // A counterexample is shown with its body cut: a body near the cap would bury the report.
    const summary = () => `${op.method} ${path.slice(0, 300)} headers ${JSON.stringify(r.headers).slice(0, 300)} body ${shown}`;
    return { method: op.method, path, headers: r.headers, body, [fc.toStringMethod]: summary };
  });
}
