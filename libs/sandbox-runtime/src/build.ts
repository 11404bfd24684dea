// `npm run build -w @codestep/sandbox-runtime`: build the runtime bundles into the cache ahead of
// time (CI, images), so the sandbox host only ever reads them.
import { buildSandboxRuntime } from './runtime.build.ts';

const result = await buildSandboxRuntime({ force: process.argv.includes('--force') });
const sizes = Object.entries(result.runtime.libraries).map(([name, s]) => `${name}=${(s.source.length / 1024).toFixed(0)}KiB`);
console.log(`sandbox runtime ${result.runtime.version} ${result.built ? 'built' : 'cached'} in ${result.durationMs.toFixed(0)} ms at ${result.dir}`);
console.log(`prelude=${(result.runtime.prelude.source.length / 1024).toFixed(0)}KiB ${sizes.join(' ')}`);
