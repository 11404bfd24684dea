/** Small hooks shared by the views: the API of the signed-in session, navigation, and loading data. */
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from './api.ts';
import { loadTraceTemplate } from './lib/trace-url.ts';

export interface Session {
  api: Api;
  navigate(href: string): void;
  /** Whether this session signed in with the key whose first characters are `prefix`. */
  signedInWith(prefix: string): boolean;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in console');
  return s;
}

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (and on `reload`); keeps the last data while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const run = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => run === latest.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => run === latest.current && setState((s) => ({ data: s.data, error: error instanceof Error ? error : new Error(String(error)), loading: false })),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function when(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** What the operator configured for clients (GET /v1/config). */
export interface ClientConfig {
  traceUrlTemplate: string | null;
}

const configs = new WeakMap<Api, Promise<ClientConfig>>();

/** GET /v1/config, read once per signed-in session; undefined until it has answered (or when it failed). */
export function useClientConfig(): ClientConfig | undefined {
  const { api } = useSession();
  const [config, setConfig] = useState<ClientConfig | undefined>();
  useEffect(() => {
    let p = configs.get(api);
    if (!p) {
      p = api.get<ClientConfig>('/v1/config');
      configs.set(api, p);
      p.catch(() => configs.delete(api));
    }
    let live = true;
    p.then(
      (c) => live && setConfig(c),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api]);
  return config;
}

/** The trace URL template in force: this browser's own (Settings), else the operator's. */
export function useTraceTemplate(): string {
  const config = useClientConfig();
  return loadTraceTemplate(localStorage) || config?.traceUrlTemplate || '';
}
