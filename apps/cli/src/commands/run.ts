/**
 * `codestep run <action.js> [--event <event.json>] [--secret NAME=VALUE]... [--allow-host HOST]... [--allow-socket HOST:PORT]...
 *   [--map-host HOST=URL]... [--timeout <ms>] [--memory <mb>] [--runtime hubspot|jsworkflows] [--runtime-version node20|node24|latest] [--json]`
 *
 * Runs one action locally in the same sandbox the executor uses. Exit code 0 when the action
 * succeeded, 1 when it failed, 2 when the command line is wrong (and nothing ran).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import {
  ACCEPTED_RUNTIME_VERSIONS,
  DEFAULT_EXECUTION_LIMITS,
  DEFAULT_RUNTIME_VERSION,
  MIN_EXECUTION_LIMITS,
  createLogger,
  isCodestepError,
  resolveRuntimeVersion,
  type RuntimeVersion,
} from '@codestep/core';
import { createSandbox, detectRuntime, LIMIT_BOUNDS, type ExecutionInput, type ExecutionResult, type HubSpotEvent, type SandboxHandle } from '@codestep/sandbox';

export interface RunCommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export const RUN_USAGE = `Usage: codestep run <action.js> [options]

Runs a custom code action locally, in the same sandbox as the executor.

Options:
  --event <event.json>     The event (HubSpot) or data (JsWorkflows); fields missing from a
                           HubSpot event are taken from a sample event
  --secret NAME=VALUE      A secret, as process.env.NAME (repeatable)
  --allow-host HOST        Let the action reach HOST even if it is a private address (repeatable)
  --map-host HOST=URL      Send the action's requests for HOST to URL instead (repeatable)
  --allow-socket HOST:PORT Let the action's sockets (net/tls: database clients) reach HOST:PORT
                           even if it is a private address, e.g. 127.0.0.1:6379 (repeatable)
  --timeout <ms>           Time limit (default ${DEFAULT_EXECUTION_LIMITS.timeoutMs})
  --memory <mb>            Memory limit (default ${DEFAULT_EXECUTION_LIMITS.memoryMb})
  --runtime <name>         hubspot or jsworkflows (default: detected from the code)
  --runtime-version <v>    the libraries require gives: node20 (HubSpot's documented set, the
                           default), node24 (today's versions) or latest (= node24)
  --json                   Print one JSON object with the result
  --help                   Show this help
`;

class UsageError extends Error {}

const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The event a HubSpot action gets when `--event` is not given. */
export function sampleEvent(): HubSpotEvent {
  return {
    origin: { portalId: 1, actionDefinitionId: 2 },
    object: { objectType: 'CONTACT', objectId: 4 },
    inputFields: {},
    callbackId: `ap-1-${randomBytes(6).toString('hex')}`,
  };
}

interface RunOptions {
  file: string;
  eventFile: string | undefined;
  secrets: Record<string, string>;
  allowHosts: string[];
  allowSockets: string[];
  mapHosts: Record<string, string>;
  timeoutMs: number | undefined;
  memoryMb: number | undefined;
  runtime: 'hubspot' | 'jsworkflows' | undefined;
  runtimeVersion: RuntimeVersion;
  json: boolean;
  help: boolean;
}

function parseIntegerFlag(flag: string, value: string | undefined, bounds: { min: number; max: number }): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  const n = Number(value);
  if (n < bounds.min || n > bounds.max) throw new UsageError(`--${flag} must be from ${bounds.min} to ${bounds.max}, got ${n}`);
  return n;
}

function splitPair(flag: string, value: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0) throw new UsageError(`--${flag} expects NAME=VALUE, got "${value}"`);
  return [value.slice(0, at), value.slice(at + 1)];
}

function parseOptions(argv: string[]): RunOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        event: { type: 'string' },
        secret: { type: 'string', multiple: true },
        'allow-host': { type: 'string', multiple: true },
        'map-host': { type: 'string', multiple: true },
        'allow-socket': { type: 'string', multiple: true },
        timeout: { type: 'string' },
        memory: { type: 'string' },
        runtime: { type: 'string' },
        'runtime-version': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    return {
      file: '',
      eventFile: undefined,
      secrets: {},
      allowHosts: [],
      allowSockets: [],
      mapHosts: {},
      timeoutMs: undefined,
      memoryMb: undefined,
      runtime: undefined,
      runtimeVersion: DEFAULT_RUNTIME_VERSION,
      json: false,
      help: true,
    };
  }
  if (positionals.length === 0) throw new UsageError('missing the action file: codestep run <action.js>');
  if (positionals.length > 1) throw new UsageError(`expected one action file, got ${positionals.length}: ${positionals.join(' ')}`);
  const secrets: Record<string, string> = {};
  for (const pair of values.secret ?? []) {
    const [name, value] = splitPair('secret', pair);
    if (!SECRET_NAME.test(name)) throw new UsageError(`--secret name "${name}" is not valid: use letters, digits and underscores`);
    secrets[name] = value;
  }
  const mapHosts: Record<string, string> = {};
  for (const pair of values['map-host'] ?? []) {
    const [host, target] = splitPair('map-host', pair);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new UsageError(`--map-host ${host}: "${target}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--map-host ${host}: the target must be an http(s) URL`);
    mapHosts[host] = target;
  }
  const runtime = values.runtime;
  if (runtime !== undefined && runtime !== 'hubspot' && runtime !== 'jsworkflows') {
    throw new UsageError(`--runtime must be hubspot or jsworkflows, got "${runtime}"`);
  }
  return {
    file: positionals[0] as string,
    eventFile: values.event,
    secrets,
    allowHosts: values['allow-host'] ?? [],
    allowSockets: values['allow-socket'] ?? [],
    mapHosts,
    // The platform's minimums, up to the sandbox's hard caps: what the platform itself accepts.
    timeoutMs: parseIntegerFlag('timeout', values.timeout, { min: MIN_EXECUTION_LIMITS.timeoutMs, max: LIMIT_BOUNDS.timeoutMs.max }),
    memoryMb: parseIntegerFlag('memory', values.memory, { min: MIN_EXECUTION_LIMITS.memoryMb, max: LIMIT_BOUNDS.memoryMb.max }),
    runtime,
    runtimeVersion: parseRuntimeVersion(values['runtime-version']),
    json: values.json === true,
    help: false,
  };
}

function parseRuntimeVersion(given: string | undefined): RuntimeVersion {
  const runtimeVersion = resolveRuntimeVersion(given ?? DEFAULT_RUNTIME_VERSION);
  if (runtimeVersion === undefined) throw new UsageError(`--runtime-version must be one of ${ACCEPTED_RUNTIME_VERSIONS.join(', ')}, got "${given}"`);
  return runtimeVersion;
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`${what} not found: ${path}`);
    if (code === 'EISDIR') throw new UsageError(`${what} is a directory: ${path}`);
    throw new UsageError(`cannot read ${what} ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function readInput(options: RunOptions, runtime: 'hubspot' | 'jsworkflows'): Promise<ExecutionInput> {
  let fromFile: unknown;
  if (options.eventFile !== undefined) {
    const text = await readText(options.eventFile, 'event file');
    try {
      fromFile = JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`event file ${options.eventFile} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (runtime === 'jsworkflows') return { runtime, data: fromFile ?? {}, headers: {} };
  if (fromFile === undefined) return { runtime, event: sampleEvent() };
  if (typeof fromFile !== 'object' || fromFile === null || Array.isArray(fromFile)) {
    throw new UsageError(`event file ${options.eventFile} must hold a JSON object (a HubSpot event)`);
  }
  return { runtime, event: { ...sampleEvent(), ...(fromFile as Partial<HubSpotEvent>) } };
}

function summary(result: ExecutionResult, runtime: 'hubspot' | 'jsworkflows'): string {
  const lines: string[] = [];
  lines.push(result.status === 'succeeded' ? `✔ succeeded in ${result.durationMs} ms` : `✖ failed in ${result.durationMs} ms`);
  if (result.error) lines.push(`  ${result.error.code}: ${result.error.message}${result.error.retryable ? ' (retryable)' : ''}`);
  if (result.executionState) lines.push(`  hs_execution_state: ${result.executionState}`);
  const outputs = Object.entries(result.outputFields);
  if (runtime === 'hubspot') {
    lines.push(outputs.length ? 'Outputs:' : 'Outputs: (none)');
    for (const [name, value] of outputs) lines.push(`  ${name} = ${JSON.stringify(value)}`);
  } else if ('returnValue' in result) {
    lines.push(`Return value: ${JSON.stringify(result.returnValue)}`);
  }
  if (result.httpResponse) lines.push(`Response: ${result.httpResponse.status} ${JSON.stringify(result.httpResponse.body)}`);
  if (result.nextSteps?.length) {
    // codestep run runs one step; the platform runs the ones it schedules.
    lines.push('Scheduled next steps (not run here):');
    for (const step of result.nextSteps) lines.push(`  ${step.action} in ${step.delayMs / 1000} s with ${step.payloadJson}`);
  }
  if (result.waits?.length) {
    // Nothing listens to a resume URL here: the platform does.
    lines.push('Waits (api.waitForEvent; not resumable here):');
    for (const wait of result.waits) lines.push(`  ${wait.action} with ${wait.payloadJson}, timing out in ${wait.timeoutMs / 1000} s`);
  }
  if (result.logs.length) {
    lines.push('Logs:');
    for (const line of result.logs) lines.push(`  [${line.level}] ${line.message.replaceAll('\n', '\n    ')}`);
  }
  return lines.join('\n') + '\n';
}

function jsonResult(result: ExecutionResult): string {
  const out: Record<string, unknown> = {
    status: result.status,
    outputFields: result.outputFields,
    logs: result.logs.map(({ level, message }) => ({ level, message })),
    error: result.error,
    durationMs: result.durationMs,
  };
  if (result.logsTruncated) out.logsTruncated = true;
  if (result.executionState) out.executionState = result.executionState;
  if ('returnValue' in result) out.returnValue = result.returnValue;
  if (result.httpResponse) out.httpResponse = result.httpResponse;
  if (result.nextSteps?.length) out.nextSteps = result.nextSteps.map((s) => ({ action: s.action, delayMs: s.delayMs, payload: JSON.parse(s.payloadJson) as unknown }));
  if (result.waits?.length) out.waits = result.waits.map((w) => ({ action: w.action, timeoutMs: w.timeoutMs, payload: JSON.parse(w.payloadJson) as unknown, redirectUrl: w.redirectUrl || null }));
  return JSON.stringify(out) + '\n';
}

/**
 * Runs `codestep run`. `argv` is what follows `run` on the command line.
 * @returns the exit code: 0 succeeded, 1 failed, 2 usage error.
 */
export async function runCommand(argv: string[], io: RunCommandIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let options: RunOptions;
  let code: string;
  let input: ExecutionInput;
  let runtime: 'hubspot' | 'jsworkflows';
  try {
    options = parseOptions(argv);
    if (options.help) {
      io.stdout.write(RUN_USAGE);
      return 0;
    }
    code = await readText(options.file, 'action file');
    runtime = options.runtime ?? detectRuntime(code);
    input = await readInput(options, runtime);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`codestep run: ${error.message}\n\n${RUN_USAGE}`);
    return 2;
  }

  const logger = createLogger({ component: 'sandbox' }, { level: 'error', write: (line) => io.stderr.write(line + '\n') });
  let sandbox: SandboxHandle | undefined;
  try {
    sandbox = await createSandbox({
      poolSize: 1,
      defaultMemoryMb: options.memoryMb ?? DEFAULT_EXECUTION_LIMITS.memoryMb,
      egress: { allowHosts: options.allowHosts, mapHosts: options.mapHosts, allowSockets: options.allowSockets },
      logger,
    });
    const limits = { timeoutMs: options.timeoutMs ?? DEFAULT_EXECUTION_LIMITS.timeoutMs, memoryMb: options.memoryMb ?? DEFAULT_EXECUTION_LIMITS.memoryMb };
    const result = await sandbox.execute({
      executionId: `run_${randomBytes(8).toString('hex')}`,
      tenantId: 'local',
      code,
      input,
      secrets: options.secrets,
      limits,
      runtimeVersion: options.runtimeVersion,
    });
    io.stdout.write(options.json ? jsonResult(result) : summary(result, runtime));
    return result.status === 'succeeded' ? 0 : 1;
  } catch (error) {
    // The sandbox itself could not run (it failed to start): the action did not run either.
    const failure = {
      code: isCodestepError(error) ? error.code : 'SANDBOX_UNAVAILABLE',
      message: error instanceof Error ? error.message : String(error),
    };
    if (options.json) io.stdout.write(JSON.stringify({ status: 'failed', outputFields: {}, logs: [], error: failure, durationMs: 0 }) + '\n');
    else io.stderr.write(`codestep run: ${failure.code}: ${failure.message}\n`);
    return 1;
  } finally {
    await sandbox?.close();
  }
}
