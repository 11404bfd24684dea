/**
 * `codestep keys create <name> | list | revoke <keyId>`: the API keys of the tenant whose key
 * CODESTEP_API_KEY is, over the HTTP API of a running platform (CODESTEP_URL, default
 * http://127.0.0.1:8080). A new key's value is printed once. `--json` prints the API's answer;
 * exit 0 done, 1 refused or failed, 2 usage.
 */
import { parseCommandLine } from './command-line.ts';
import type { RunCommandIo } from './run.ts';
import { client, type Answer } from './workflows.ts';

export const KEYS_USAGE = `Usage: codestep keys <subcommand> [--json]
  create <name>     a new API key of your tenant (its value is shown once: keep it)
  list [--all]      your tenant's keys: id, name, prefix, created, revoked (every page with --all)
  revoke <keyId>    refuse that key from now on, in every gateway (not your tenant's last working key)

Environment: CODESTEP_URL (default http://127.0.0.1:8080), CODESTEP_API_KEY (one of the tenant's keys)
`;

type Key = { id: string; name: string; prefix: string; createdAt: string; revokedAt: string | null; lastUsedAt?: string | null; status: string };

const row = (k: Key) =>
  `${k.id}  ${k.status.padEnd(7)}  ${(k.prefix || '(no prefix)').padEnd(12)}  ${k.createdAt}  ${k.name}${k.revokedAt ? `  (revoked ${k.revokedAt})` : ''}${k.lastUsedAt ? `  (last used ${k.lastUsedAt})` : ''}`;

export async function keysCommand(argv: string[], env: NodeJS.ProcessEnv, io: RunCommandIo): Promise<number> {
  const parsed = parseCommandLine('keys', KEYS_USAGE, argv, { json: { type: 'boolean' }, all: { type: 'boolean' } }, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const [sub, ...args] = positionals;
  const usage = (what: string) => {
    io.stderr.write(`codestep keys: ${what}\n${KEYS_USAGE}`);
    return 2;
  };
  if (!env.CODESTEP_API_KEY && sub) return usage("set CODESTEP_API_KEY to one of your tenant's keys");
  const call = client(env);
  const show = (a: Answer, human: (b: any) => string): number => {
    if (a.status >= 400) {
      const e = a.body?.error;
      io.stderr.write(values.json ? JSON.stringify(a.body, null, 2) + '\n' : `✖ ${a.status} ${e?.code ?? ''}: ${e?.message ?? JSON.stringify(a.body)}\n`);
      return 1;
    }
    io.stdout.write(values.json ? JSON.stringify(a.body, null, 2) + '\n' : human(a.body) + '\n');
    return 0;
  };
  switch (sub) {
    case 'create': {
      if (args.length !== 1 || !args[0]?.trim()) return usage('create needs one <name> (quote it if it has spaces)');
      return show(await call('POST', '/v1/api-keys', { name: args[0] }), (b) => `created API key ${b.id} "${b.name}"\nAPI key (shown once, keep it): ${b.key}`);
    }
    case 'list': {
      if (args.length) return usage('list takes no arguments');
      const keys: Key[] = [];
      let answer: Answer;
      let cursor: string | null = null;
      do {
        answer = await call('GET', `/v1/api-keys${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`);
        if (answer.status !== 200) break;
        keys.push(...(answer.body.apiKeys as Key[]));
        cursor = values.all ? (answer.body.nextCursor as string | null) : null;
      } while (cursor);
      if (answer.status === 200) answer = { ...answer, body: { apiKeys: keys, nextCursor: answer.body.nextCursor } };
      return show(answer, (b) => [...(b.apiKeys as Key[]).map(row), ...(b.nextCursor ? ['(more: codestep keys list --all)'] : [])].join('\n') || 'no API keys');
    }
    case 'revoke': {
      if (args.length !== 1) return usage('revoke needs one <keyId> (codestep keys list shows them)');
      return show(await call('DELETE', `/v1/api-keys/${encodeURIComponent(args[0]!)}`), (b) => `revoked API key ${b.id} "${b.name}" at ${b.revokedAt}`);
    }
    case undefined:
      return usage('which subcommand?');
    default:
      return usage(`unknown subcommand "${sub}"`);
  }
}
