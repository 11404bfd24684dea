/**
 * A part of the context bootstrap (see `../context-bootstrap.ts`), run from its source text in
 * each fresh context: asynchronous work routed through the host, and the `bridge` object the
 * runtime prelude builds `fetch`, `crypto` and the lazy web platform on.
 *
 * A request or an OAuth call is an id: the callback stays here, the host gets the id and
 * primitives, and its answer comes back as a `fetch` or `oauth` dispatch with that id.
 * `getOAuthToken` (the JsWorkflows `api`) resolves to `{ token, error }` and never rejects.
 */
import type { ContextCore } from './core.part.ts';
import type { MemoryPart } from './memory.part.ts';
import type { RequirePart } from './require.part.ts';

/** What the bridge part gives later parts (a context-realm object). */
export interface BridgePart {
  /** The frozen `bridge` handed to the prelude's `install(global, bridge)`. */
  prelude: {
    fetch: (requestJson: unknown, onDone: unknown) => void;
    randomBytes: (size: unknown) => string;
    now: () => number;
    loadModule: (name: unknown) => unknown;
    /** A socket operation (`HostCalls.socket`); true when the host accepted it. */
    socket: (op: unknown, id: unknown, arg: unknown) => boolean;
    /** Sets the one handler of this context's socket events, `(id, payload)`; later calls are ignored. */
    onSocketEvent: (handler: unknown) => void;
    builtin: (op: unknown, payloadJson: unknown) => string;
    dns: (requestJson: unknown, onDone: unknown) => void;
  };
  getOAuthToken: (handle: unknown) => Promise<unknown>;
  /** A run-state operation (JsWorkflows' `api.runStore`, `api.dedupe`): resolves with its value, rejects with the host's error. */
  runState: (requestJson: string) => Promise<unknown>;
  /** Delivers the host's answer to run-state call `id` (the `runState` dispatch). */
  runStateDone: (id: number, answerJson: string) => void;
  /** Delivers the host's answer to request `id` (the `fetch` dispatch). */
  fetchDone: (id: number, responseJson: string) => void;
  /** Delivers the host's answer to DNS query `id` (the `dns` dispatch). */
  dnsDone: (id: number, answerJson: string) => void;
  /** Delivers the host's answer to OAuth call `id` (the `oauth` dispatch). */
  oauthDone: (id: number, answerJson: string) => void;
  /** Delivers an event of socket `id` (the `socket` dispatch) to the runtime's `net` module. */
  socketEvent: (id: number, payload: string) => void;
}

/** Runs in the context (from its source text). */
export function bridgePart(core: ContextCore, modules: RequirePart, memory: MemoryPart): BridgePart {
  'use strict';
  const { call, MapCtor, PromiseCtor, ErrorCtor, objectFreeze, jsonParse, get, put, del, safeString, reportUncaught } = core;
  const toIndex = memory.toIndex;
  const fetchCallbacks = new MapCtor<number, (responseJson: string) => void>();
  const dnsCallbacks = new MapCtor<number, (answerJson: string) => void>();
  let nextDnsId = 1;
  const oauthCallbacks = new MapCtor<number, (value: unknown) => void>();
  const runStateCallbacks = new MapCtor<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  let nextRunStateId = 1;
  let nextFetchId = 1;
  let nextOauthId = 1;
  let socketHandler: ((id: number, payload: string) => void) | null = null;
  const prelude = objectFreeze({
    fetch: (requestJson: unknown, onDone: unknown): void => {
      if (typeof onDone !== 'function') return;
      const id = nextFetchId++;
      put(fetchCallbacks, id, onDone as (responseJson: string) => void);
      call('fetch', id, typeof requestJson === 'string' ? requestJson : safeString(requestJson));
    },
    randomBytes: (size: unknown): string => {
      const result = call('randomBytes', toIndex(size));
      return typeof result === 'string' ? result : '';
    },
    now: (): number => {
      const result = call('now');
      return typeof result === 'number' ? result : 0;
    },
    // The runtime's internal modules: the prelude loads the web runtime this way on a
    // context's first use of it.
    loadModule: modules.internal,
    socket: (op: unknown, id: unknown, arg: unknown): boolean => call('socket', typeof id === 'number' ? id : -1, safeString(op), typeof arg === 'string' ? arg : '') === true,
    onSocketEvent: (handler: unknown): void => {
      if (socketHandler === null && typeof handler === 'function') socketHandler = handler as (id: number, payload: string) => void;
    },
    // The built-ins' synchronous host operations (crypto ciphers, zlib): JSON in, JSON out.
    builtin: (op: unknown, payloadJson: unknown): string => {
      const result = call('builtin', safeString(op), typeof payloadJson === 'string' ? payloadJson : safeString(payloadJson));
      return typeof result === 'string' ? result : '{"ok":false,"error":{"code":"ERR_SANDBOX","message":"the host did not answer"}}';
    },
    dns: (requestJson: unknown, onDone: unknown): void => {
      if (typeof onDone !== 'function') return;
      const id = nextDnsId++;
      put(dnsCallbacks, id, onDone as (answerJson: string) => void);
      call('dns', id, typeof requestJson === 'string' ? requestJson : safeString(requestJson));
    },
  });
  const getOAuthToken = (handle: unknown): Promise<unknown> =>
    new PromiseCtor((resolve) => {
      if (typeof handle !== 'string' || handle === '') {
        resolve(objectFreeze({ token: null, error: 'getOAuthToken needs a connection handle (a non-empty string)' }));
        return;
      }
      const id = nextOauthId++;
      put(oauthCallbacks, id, resolve);
      if (call('oauth', id, handle) !== true) {
        del(oauthCallbacks, id);
        resolve(objectFreeze({ token: null, error: 'Too many OAuth token requests from this execution' }));
      }
    });
  const runState = (requestJson: string): Promise<unknown> =>
    new PromiseCtor((resolve, reject) => {
      const id = nextRunStateId++;
      put(runStateCallbacks, id, { resolve, reject });
      if (call('runState', id, requestJson) !== true) {
        del(runStateCallbacks, id);
        reject(new ErrorCtor('api.runStore / api.dedupe: too many calls from this step (or the run state is not available here)'));
      }
    });
  const runStateDone = (id: number, answerJson: string): void => {
    const pending = get(runStateCallbacks, id);
    if (!pending) return;
    del(runStateCallbacks, id);
    let answer: { value?: unknown; error?: unknown } = {};
    try {
      answer = jsonParse(answerJson) as { value?: unknown; error?: unknown };
    } catch {
      answer = { error: 'the run state service sent an unreadable answer' };
    }
    if (typeof answer.error === 'string') pending.reject(new ErrorCtor(answer.error));
    else pending.resolve(answer.value === undefined ? null : answer.value);
  };
  const fetchDone = (id: number, responseJson: string): void => {
    const onDone = get(fetchCallbacks, id);
    if (!onDone) return;
    del(fetchCallbacks, id);
    try {
      onDone(responseJson);
    } catch (error) {
      reportUncaught(error, 'fetch completion');
    }
  };
  const dnsDone = (id: number, answerJson: string): void => {
    const onDone = get(dnsCallbacks, id);
    if (!onDone) return;
    del(dnsCallbacks, id);
    try {
      onDone(answerJson);
    } catch (error) {
      reportUncaught(error, 'dns completion');
    }
  };
  const oauthDone = (id: number, answerJson: string): void => {
    const resolve = get(oauthCallbacks, id);
    if (!resolve) return;
    del(oauthCallbacks, id);
    let answer: { token?: unknown; error?: unknown } = {};
    try {
      answer = jsonParse(answerJson) as { token?: unknown; error?: unknown };
    } catch {
      answer = { error: 'The OAuth token service sent an unreadable answer' };
    }
    const token = typeof answer.token === 'string' && answer.token !== '' ? answer.token : null;
    const error = typeof answer.error === 'string' && answer.error !== '' ? answer.error : token === null ? 'No token' : null;
    resolve(objectFreeze({ token, error }));
  };
  const socketEvent = (id: number, payload: string): void => {
    if (socketHandler === null) return;
    try {
      socketHandler(id, payload);
    } catch (error) {
      reportUncaught(error, 'socket event');
    }
  };
  const part = Object.create(null) as BridgePart;
  part.socketEvent = socketEvent;
  part.prelude = prelude;
  part.getOAuthToken = getOAuthToken;
  part.fetchDone = fetchDone;
  part.dnsDone = dnsDone;
  part.oauthDone = oauthDone;
  part.runState = runState;
  part.runStateDone = runStateDone;
  return part;
}
