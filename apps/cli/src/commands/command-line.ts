/**
 * The command line of a `codestep <command>` that talks to the platform's libraries: parsed
 * strictly; a bad one is answered on stderr with the command's usage (exit 2), `--help` on
 * stdout (exit 0). Every such command adds `--help`/`-h` to its options.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { RunCommandIo } from './run.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: O & { help: { type: 'boolean'; short: 'h' } } }>>;

/** The parsed command line, or the exit code when it was answered here (a bad one: 2; `--help`: 0). */
export function parseCommandLine<O extends Options>(command: string, usage: string, argv: string[], options: O, io: RunCommandIo): Parsed<O> | number {
  let parsed: Parsed<O>;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: { ...options, help: { type: 'boolean', short: 'h' } } }) as Parsed<O>;
  } catch (error) {
    io.stderr.write(`codestep ${command}: ${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.stdout.write(usage);
    return 0;
  }
  return parsed;
}
