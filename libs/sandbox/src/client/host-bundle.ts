/**
 * Builds the host-process and worker-thread code into two self-contained scripts with esbuild,
 * once per client process. The host is then started with no file system access at all: its
 * script comes on stdin and the worker's in the `init` message, so neither needs to read a file.
 */
import * as esbuild from 'esbuild';

export interface HostBundles {
  host: string;
  worker: string;
}

let bundles: Promise<HostBundles> | undefined;

async function bundle(entry: URL): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [entry.pathname],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    // The context bootstrap is compiled from its own source text: names must stay as written.
    keepNames: false,
    minify: false,
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${entry.pathname}`);
  return file.text;
}

/** The bundled host and worker scripts (built on first use, then reused). */
export function hostBundles(): Promise<HostBundles> {
  bundles ??= Promise.all([bundle(new URL('../host/sandbox-host.main.ts', import.meta.url)), bundle(new URL('../worker/sandbox-worker.main.ts', import.meta.url))]).then(([host, worker]) => ({
    host,
    worker,
  }));
  bundles.catch(() => {
    bundles = undefined;
  });
  return bundles;
}
