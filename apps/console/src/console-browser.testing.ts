/**
 * What the console's browser tests share: where Debian's chromium is, `codestep dev` started as a
 * real process (its URL and first API key read from what it prints) and stopped, a free port.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHROMIUM = process.env.CODESTEP_CHROMIUM ?? '/usr/bin/chromium';

/** A free loopback port (the platform's public URL, which the OAuth app's redirect URI names, must be known before it starts). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

export async function startDev(dataDir: string, env: Record<string, string>, restart = false): Promise<{ child: ChildProcess; url: string; apiKey: string }> {
  const child = spawn(process.execPath, [join(root, 'apps/cli/src/main.ts'), 'dev'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', CODESTEP_HTTP_PORT: '0', CODESTEP_LOG_LEVEL: 'warn', CODESTEP_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!/HTTP API: (\S+)/.test(out) || (!restart && !/API key \(shown once, keep it\): (\S+)/.test(out))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`codestep dev did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(out, /Console: http:\/\/\S+\//, 'npm start prints the console URL');
  return { child, url: /HTTP API: (\S+)/.exec(out)![1]!, apiKey: /API key \(shown once, keep it\): (\S+)/.exec(out)?.[1] ?? '' };
}

export async function stopDev(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** A call to the public API with `key`, asserting it succeeded; its JSON body. */
export function apiCaller(url: string, key: string) {
  return async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
}
