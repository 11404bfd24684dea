/**
 * The console's client of the public HTTP API (the same routes a script uses, all in
 * GET /openapi.json): JSON in and out, the API key as a bearer token, the API's error
 * (code and message) carried to the view as an ApiError.
 */
import { apiErrorOf, type ApiErrorBody } from './lib/api-errors.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export type Json = Record<string, unknown>;

export interface Api {
  get<T = Json>(path: string): Promise<T>;
  send<T = Json>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** Server-sent events of `path` read over fetch (EventSource cannot send the key); stops when `signal` aborts. */
  events(path: string, signal: AbortSignal, onEvent: (type: string, data: string) => void): Promise<void>;
}

export function createApi(key: string, onUnauthorized: () => void): Api {
  const headers = (body: boolean): Record<string, string> => ({ authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) });
  const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(path, { method, headers: headers(body !== undefined), ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', 'The server did not answer (it may be restarting). Nothing you typed is lost: try again in a moment.');
    }
    const text = await res.text();
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const { code, message } = apiErrorOf(res.status, parsed as ApiErrorBody, text);
      if (res.status === 401) onUnauthorized();
      throw new ApiError(res.status, code, message);
    }
    return parsed as T;
  };
  return {
    get: (path) => request('GET', path),
    send: (method, path, body) => request(method, path, body),
    events: async (path, signal, onEvent) => {
      const res = await fetch(path, { headers: headers(false), signal });
      if (!res.ok || !res.body) {
        const text = await res.text();
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        const { code, message } = apiErrorOf(res.status, parsed as ApiErrorBody, text);
        throw new ApiError(res.status, code, message);
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let type = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length) onEvent(type, data.join('\n'));
        }
      }
    },
  };
}
