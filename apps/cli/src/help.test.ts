/**
 * The command line as a user meets it: every command (and each subcommand) answers `--help`
 * with its usage and exit 0, without starting anything (no data directory, no server), and
 * `codestep --version` prints the package's version.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'codestep-help-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function codestep(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const dataDir = join(dir, 'data');
  // A port nothing listens on and a data directory that must stay absent: a command that starts anything fails or leaves a trace.
  const out = spawnSync(process.execPath, [main, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CODESTEP_DATA_DIR: dataDir, CODESTEP_URL: 'http://127.0.0.1:9', HTTP_PORT: '9', CODESTEP_HTTP_PORT: '9' },
  });
  assert.equal(existsSync(dataDir), false, `codestep ${args.join(' ')} created the data directory`);
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

/** The commands the top-level usage lists, read from it: a command added there is tested here. */
function commands(): string[] {
  const usage = codestep(['--help']).stdout;
  return [...usage.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]!);
}

describe('codestep --help and --version', () => {
  it('lists its commands, and every one answers --help (or -h) with its usage, exit 0, starting nothing', () => {
    const all = commands();
    for (const c of ['dev', 'run', 'replay', 'tenants', 'keys', 'certs', 'hubspot-fake', 'hubspot', 'workflows']) assert.ok(all.includes(c), `the usage lists ${c}`);
    for (const args of [...all.map((c) => [c, '--help']), ['keys', '-h'], ['dev', '-h']]) {
      const out = codestep(args);
      assert.equal(out.status, 0, `codestep ${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stdout, /usage: codestep/i, `codestep ${args.join(' ')} prints its usage`);
      assert.equal(out.stderr, '', `codestep ${args.join(' ')} writes nothing on stderr`);
    }
  });

  it('answers --help after a subcommand too', () => {
    for (const args of [
      ['tenants', 'create', '--help'],
      ['keys', 'create', '--help'],
      ['workflows', 'rollback', '--help'],
      ['test', 'wf_1', 'a', '--help'],
      ['enroll', 'wf_1', '--help'],
      ['hubspot', 'publish-action', '--help'],
      ['replay', '--verify', '--help'],
    ]) {
      const out = codestep(args);
      assert.equal(out.status, 0, `codestep ${args.join(' ')}: ${out.stderr}`);
      assert.match(out.stdout, /usage: codestep/i);
    }
  });

  it('prints the package version with --version, and refuses an unknown command with exit 2', () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const out = codestep([flag]);
      assert.equal(out.status, 0);
      assert.equal(out.stdout, `codestep ${version}\n`);
    }
    const unknown = codestep(['frobnicate']);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal(codestep(['dev', '--port', '1']).status, 2, 'dev refuses arguments it does not know instead of starting');
  });
});
