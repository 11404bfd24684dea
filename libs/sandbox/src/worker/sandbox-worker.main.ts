/**
 * A sandbox worker thread. The host process evaluates this module's bundle with
 * `new Worker(source, { eval: true })` and `resourceLimits` sized from the memory class.
 *
 * It runs one execution at a time, each in a fresh context made ahead of time (the "spare"),
 * so the cost of creating a context and installing the runtime is paid while the worker is
 * idle. Scripts (the bootstrap, the prelude, libraries, recent actions) are compiled once per
 * worker and run in each new context. The worker never reads a value produced by user code:
 * it passes context values along (the compiled factory, a rejection reason) to context
 * functions and only ever reads the strings they return.
 */
import vm from 'node:vm';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { createEgressDns, createEgressFetch, createSocketEgress } from '@codestep/egress';
import { RUNTIME_CAPS } from '../limits.ts';
import { ConsoleLineRingWriter } from '../console-lines.ring.ts';
import type { HostToWorker, SourceAnswer, WorkerExecution, WorkerInit, WorkerToHost } from '../protocol.ts';
import type { ContextApi, HostBridge } from '../bridge.protocol.ts';
import { BOOTSTRAP_SOURCE } from './context-bootstrap.ts';
import { ExecutionSession, type PreparedContext } from './execution-session.ts';

const init = workerData as WorkerInit;
if (!parentPort) throw new Error('sandbox-worker must run in a worker thread');
const port = parentPort;
const post = (message: WorkerToHost): void => port.postMessage(message);
const MB = 1024 * 1024;
const logRing = new ConsoleLineRingWriter(init.logRing);

let current: { id: number; session: ExecutionSession; prepared: PreparedContext } | null = null;
let spare: PreparedContext | null = null;

// Dynamic import() must never reach Node's module loader: its errors are objects of this realm.
// The client rewrites import() in actions into require(); this is the backstop for anything
// else, and it only exists with --experimental-vm-modules (which the host process gets).
const vmModules = process.execArgv.includes('--experimental-vm-modules');
const importModuleDynamically = (): never => {
  const api = current?.prepared.api;
  if (api) throw api.makeError('import() is not available in actions; use require()');
  throw new Error('import() is not available');
};
function compile(source: string, filename: string, cachedData?: Uint8Array): vm.Script {
  const options: vm.ScriptOptions = { filename };
  if (cachedData) options.cachedData = cachedData;
  if (vmModules) options.importModuleDynamically = importModuleDynamically as unknown as vm.ScriptOptions['importModuleDynamically'];
  return new vm.Script(source, options);
}

/** Runtime scripts compiled from source here, whose code cache goes to the host when idle. */
const uncached = new Map<string, vm.Script>();

/** Compiles a runtime script, from the code cache of an earlier worker when there is one. */
function compileRuntime(source: string, filename: string): vm.Script {
  const cachedData = init.codeCache[filename];
  const script = compile(source, filename, cachedData);
  if (!cachedData || script.cachedDataRejected === true) uncached.set(filename, script);
  return script;
}

/** Shares one code cache per idle moment (made after running, so it holds the compiled functions too). */
function shareCodeCache(): void {
  const next = uncached.entries().next();
  if (next.done) return;
  const [filename, script] = next.value;
  uncached.delete(filename);
  const data = script.createCachedData();
  post({ type: 'code-cache', filename, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

const bootstrapScript = compile(BOOTSTRAP_SOURCE, 'codestep:bootstrap');
const preludeScript = init.runtime.prelude ? compileRuntime(init.runtime.prelude.source, init.runtime.prelude.filename) : null;
const libraryScripts = new Map<string, vm.Script>();
// What `require` accepts: the built-ins and every runtime version's library names (the same
// names in each; which version a name loads is the execution's, see loadModule), never the
// runtime's internal modules (`codestep:` names, such as the web runtime), which only the
// prelude loads, through its bridge, nor a library's `name@version` key.
const isLibraryKey = (key: string): boolean => key.lastIndexOf('@') > 0;
const modulesJson = JSON.stringify({
  modules: [
    ...new Set([
      ...Object.keys(init.runtime.libraries).filter((name) => !name.startsWith('codestep:') && !isLibraryKey(name)),
      ...Object.values(init.runtime.runtimeVersions).flatMap((table) => Object.keys(table)),
    ]),
  ].sort(),
  subpaths: init.runtime.subpaths,
});
const actionScripts = new Map<string, vm.Script>();

function diagnostic(level: 'warn' | 'error', message: string): void {
  // The host forwards the worker's stderr to its own diagnostics.
  process.stderr.write(`[sandbox-worker ${level}] ${message}\n`);
}

/** How long a worker waits for the host to send a library's source, ms (the host answers at once). */
const SOURCE_WAIT_MS = 10_000;
const sourceSignal = new Int32Array(init.sources.signal);

/** A library's source, copied from the host on first use (see `WorkerInit.sources`). */
function librarySource(name: string): string | null {
  const deadline = performance.now() + SOURCE_WAIT_MS;
  Atomics.store(sourceSignal, 0, 0);
  init.sources.port.postMessage({ name });
  for (;;) {
    // Answers are read in order; one left over from an earlier request that gave up is skipped.
    for (let received = receiveMessageOnPort(init.sources.port); received; received = receiveMessageOnPort(init.sources.port)) {
      const answer = received.message as SourceAnswer;
      if (answer.name === name) return typeof answer.source === 'string' ? answer.source : null;
    }
    const left = deadline - performance.now();
    if (left <= 0) return null;
    Atomics.wait(sourceSignal, 0, 0, left);
    Atomics.store(sourceSignal, 0, 0);
  }
}

/** The key of the module `require(name)` loads for the context's execution: its runtime version's library, or the built-in itself. */
function moduleKey(prepared: PreparedContext, name: string): string {
  const runtimeVersion = prepared.slot.session?.execution.runtimeVersion;
  const table = runtimeVersion !== undefined && Object.hasOwn(init.runtime.runtimeVersions, runtimeVersion) ? init.runtime.runtimeVersions[runtimeVersion] : undefined;
  return table !== undefined && Object.hasOwn(table, name) ? (table[name] as string) : name;
}

function loadModule(prepared: PreparedContext, requested: string): boolean {
  const name = moduleKey(prepared, requested);
  // A library's own key is never requirable: only the name, through the execution's version.
  if (isLibraryKey(requested)) return false;
  const library = Object.hasOwn(init.runtime.libraries, name) ? init.runtime.libraries[name] : undefined;
  if (!library) return false;
  try {
    let script = libraryScripts.get(name);
    if (!script) {
      const source = librarySource(name);
      if (source === null) {
        diagnostic('error', `the source of library ${name} did not arrive from the host`);
        return false;
      }
      script = compileRuntime(source, library.filename);
      libraryScripts.set(name, script);
    }
    const factory: unknown = script.runInContext(prepared.context);
    prepared.api.provideModule(requested, factory);
    return true;
  } catch {
    // A value thrown by the library's top level belongs to the context: not read here.
    diagnostic('warn', `library ${name} failed to evaluate`);
    return false;
  }
}

function prepareContext(): PreparedContext {
  const context = vm.createContext(vm.constants.DONT_CONTEXTIFY, {
    name: 'codestep-action',
    codeGeneration: { strings: false, wasm: false },
  }) as object;
  const slot: PreparedContext['slot'] = { session: null };
  const prepared = { context, slot } as PreparedContext;
  const bridge = ExecutionSession.bridgeFor(slot, {
    loadModule: (name) => loadModule(prepared, name),
    modulesJson,
    externalLimitBytes: init.memoryMb * MB,
  });
  const bootstrap = bootstrapScript.runInContext(context) as (bridge: HostBridge) => ContextApi;
  prepared.api = bootstrap(bridge);
  if (preludeScript) {
    const install: unknown = preludeScript.runInContext(context);
    const failure = prepared.api.installPrelude(install);
    if (failure) diagnostic('error', `runtime prelude failed to install: ${failure.slice(0, 500)}`);
  }
  return prepared;
}

function actionScript(execution: WorkerExecution): vm.Script {
  let script = actionScripts.get(execution.codeHash);
  if (script) {
    actionScripts.delete(execution.codeHash);
  } else {
    // Same line as the code, so line numbers in stack traces match the user's file.
    script = compile(`(function (exports, require, module, __filename, __dirname) { ${execution.code}\n})`, '/action/index.js');
    if (actionScripts.size >= RUNTIME_CAPS.scriptCacheEntries) {
      const oldest = actionScripts.keys().next();
      if (!oldest.done) actionScripts.delete(oldest.value);
    }
  }
  actionScripts.set(execution.codeHash, script);
  return script;
}

function syntaxErrorMessage(error: unknown): string {
  if (!(error instanceof Error)) return 'SyntaxError: the action could not be compiled';
  const location = typeof error.stack === 'string' ? error.stack.split('\n', 1)[0] : '';
  return `${error.name}: ${error.message}${location && location.startsWith('/action/') ? ` (${location.replace('/action/', '')})` : ''}`;
}

function execute(id: number, execution: WorkerExecution): void {
  const prepared = spare ?? prepareContext();
  spare = null;
  logRing.reset();
  const session = new ExecutionSession(execution, {
    provisional: (result) => post({ type: 'provisional', id, result }),
    final: (result) => {
      // Posted from a fresh macrotask, once the microtasks the context queued have run: the
      // result also says the worker is free. A context that keeps the thread busy (an endless
      // promise chain after returning) never gets here, and the deadline replaces the worker,
      // as a Node process that never yields would never send its response either.
      setImmediate(() => {
        post({ type: 'result', id, result });
        setImmediate(prepareSpare);
      });
    },
    oauth: (callId, handle) => post({ type: 'oauth', id, callId, handle }),
    runState: (callId, requestJson) => post({ type: 'run-state', id, callId, requestJson }),
    line: (line) => logRing.write(line),
    dropped: (count) => logRing.dropped(count),
    memoryExceeded: () => post({ type: 'memory-exceeded', id }),
    createFetch: (signal, dryRun) => createEgressFetch(init.egress, { timeoutMs: Math.min(15_000, execution.timeoutMs) }, { signal, ...(dryRun ? { dryRun } : {}) }),
    createSockets: (dryRun) => createSocketEgress(init.egress, init.egress.socketLimits, { dryRun }),
    createDns: () => createEgressDns(init.egress),
    diagnostic,
  });
  prepared.slot.session = session;
  session.attach(prepared.api);
  current = { id, session, prepared };
  let script: vm.Script;
  try {
    script = actionScript(execution);
  } catch (error) {
    session.failWith({ code: 'USER_CODE_ERROR', message: syntaxErrorMessage(error) });
    return;
  }
  let factory: unknown;
  try {
    factory = script.runInContext(prepared.context);
  } catch (thrown) {
    // Code that breaks out of the wrapper can throw at evaluation: a context value.
    session.failWithDescription(prepared.api.describeError(thrown));
    return;
  }
  session.start(factory);
}

function prepareSpare(): void {
  if (spare || (current && !current.session.done)) return;
  try {
    spare = prepareContext();
  } catch (error) {
    diagnostic('error', `could not prepare a context: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (uncached.size > 0)
    setImmediate(() => {
      if (!current || current.session.done) shareCodeCache();
    });
}

process.on('unhandledRejection', (reason: unknown) => {
  // The reason is a value of some context: only the context may look at it.
  if (current && !current.session.done) current.session.unhandledRejection(current.prepared.api.describeError(reason));
});

port.on('message', (message: HostToWorker) => {
  if (message.type === 'execute') {
    if (current && !current.session.done) {
      post({
        type: 'result',
        id: message.id,
        result: {
          status: 'failed',
          outputFields: {},
          logs: [],
          logsTruncated: false,
          error: { code: 'SANDBOX_BUSY', message: 'internal: the worker was given a second execution' },
          durationMs: 0,
        },
      });
      return;
    }
    execute(message.id, message.execution);
  } else if (message.type === 'oauth-result') {
    if (current && current.id === message.id) current.session.oauthAnswer(message.callId, message.resultJson);
  } else if (message.type === 'run-state-result') {
    if (current && current.id === message.id) current.session.runStateAnswer(message.callId, message.answerJson);
  } else if (message.type === 'memory-probe') {
    // This worker's own figures, from its thread: `arrayBuffers` counts shared buffers too,
    // which the V8 statistics the host can read from outside do not.
    const usage = process.memoryUsage();
    post({ type: 'memory', probe: message.probe, bytes: usage.heapUsed + Math.max(usage.arrayBuffers, usage.external) });
  }
});

prepareSpare();
post({ type: 'ready' });
