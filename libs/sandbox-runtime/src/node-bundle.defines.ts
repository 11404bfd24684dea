/**
 * Constants the built-ins' bundles take from the Node that builds them, so that they equal
 * Node's exactly (`zlib.constants`, `http.STATUS_CODES`, `http.METHODS`, `os.constants`):
 * esbuild `define`s, JSON text.
 */
import http from 'node:http';
import os from 'node:os';
import zlib from 'node:zlib';

export function nodeBundleDefines(): Record<string, string> {
  return {
    __ZLIB_CONSTANTS__: JSON.stringify(zlib.constants),
    __HTTP_STATUS_CODES__: JSON.stringify(http.STATUS_CODES),
    __HTTP_METHODS__: JSON.stringify(http.METHODS),
    __OS_CONSTANTS__: JSON.stringify({ signals: os.constants.signals, errno: os.constants.errno, priority: os.constants.priority }),
  };
}
