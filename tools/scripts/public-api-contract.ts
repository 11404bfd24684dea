/**
 * The public gRPC API as a contract: `proto/codestep/public` checked with `buf breaking` against
 * its last released snapshot (`proto/released/codestep-public-api.image.json`, a `buf build`
 * image), as the published events are (./events-contract.ts).
 *
 *   node tools/scripts/public-api-contract.ts check     a breaking change fails (npm test runs it)
 *   node tools/scripts/public-api-contract.ts release   writes the current API as the released snapshot
 *
 * Once released, a snapshot is only ever replaced by one that passes `check` against it: methods,
 * messages and fields added; nothing removed, renumbered, retyped or renamed.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { breakingChanges, root, snapshotText, type Image } from './events-contract.ts';

export const PUBLIC_API_PATH = 'codestep/public';
export const RELEASED_PUBLIC_API = resolve(root, 'proto/released/codestep-public-api.image.json');
const BUF = resolve(root, 'node_modules/.bin/buf');

export function main(command: string | undefined): number {
  const protoDir = resolve(root, 'proto');
  if (command === 'release') {
    const image = JSON.parse(
      execFileSync(BUF, ['build', '.', '--path', PUBLIC_API_PATH, '--exclude-source-info', '-o', '-#format=json'], { cwd: protoDir, encoding: 'utf8', maxBuffer: 64 << 20 }),
    ) as Image;
    writeFileSync(RELEASED_PUBLIC_API, snapshotText(image));
    console.log(`wrote ${RELEASED_PUBLIC_API.slice(root.length + 1)}`);
    return 0;
  }
  if (command !== 'check') {
    console.error('usage: node tools/scripts/public-api-contract.ts check | release');
    return 2;
  }
  const changes = breakingChanges(protoDir, RELEASED_PUBLIC_API, PUBLIC_API_PATH);
  if (changes.length) {
    console.error(`proto/codestep/public breaks the released API (${RELEASED_PUBLIC_API.slice(root.length + 1)}); the public gRPC API changes only by adding:`);
    for (const c of changes) console.error(`  proto/${c.path}:${c.line}: ${c.message} [${c.type}]`);
    return 1;
  }
  console.log('public gRPC API: no breaking change against the released snapshot');
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv[2]);
