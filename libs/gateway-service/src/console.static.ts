/**
 * The web console's static files (apps/console/dist), served by the gateway at `/`: hashed assets
 * under /assets/ cached for a year (their names change with their content), index.html never
 * cached and answered for every other path that is not the API's, so a reload at any console URL
 * works. A gzip twin (`x.js.gz`, made by the build) is sent to clients that accept it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** Paths that are the API's (or the gateway's own), never the console's. */
const API_PREFIXES = ['/v1/', '/hooks/', '/oauth/', '/resume/'];
const API_PATHS = new Set(['/v1', '/healthz', '/openapi.json']);

export function isConsolePath(path: string): boolean {
  return !API_PATHS.has(path) && !API_PREFIXES.some((p) => path.startsWith(p));
}

/** Serves `req` from `dir` if it is a console request (GET or HEAD outside the API); false for the router to answer. */
export function consoleHandler(dir: string): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const root = resolve(dir);
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return false;
    }
    if (!isConsolePath(path)) return false;
    const isAsset = path.startsWith('/assets/');
    const file = isAsset ? resolve(join(root, path)) : join(root, 'index.html');
    if (!file.startsWith(root + sep) || path.includes('\0')) return notFound(res, path);
    const found = await fileSize(file);
    if (found === undefined) {
      if (isAsset) return notFound(res, path);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`The console is not built in ${root}: run "node apps/console/src/build.ts" (npm start does it), or use the HTTP API (/openapi.json).\n`);
      return true;
    }
    const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')) ? await fileSize(file + '.gz') : undefined;
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': isAsset ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      'content-length': String(gzip ?? found),
      ...(gzip !== undefined ? { 'content-encoding': 'gzip' } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return true;
    }
    await new Promise<void>((done) => {
      const stream = createReadStream(gzip !== undefined ? file + '.gz' : file);
      stream.on('error', () => (res.destroy(), done()));
      stream.on('end', () => done());
      stream.pipe(res);
    });
    return true;
  };
}

async function fileSize(file: string): Promise<number | undefined> {
  try {
    const s = await stat(file);
    return s.isFile() ? s.size : undefined;
  } catch {
    return undefined;
  }
}

function notFound(res: ServerResponse, path: string): true {
  res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no console file at ${path.slice(0, 200)}` } }));
  return true;
}
