/**
 * Errors with a stable `code`. They cross thread, process and vm-realm boundaries as plain
 * `{ name, code, message }` objects, so recognise them by `code` (see {@link isCodestepError}),
 * never only by `instanceof`.
 */
import type { ErrorCode } from './error-catalogue.ts';

export const CODESTEP_ERROR = Symbol.for('codestep.error');

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export class CodestepError extends Error {
  readonly [CODESTEP_ERROR] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CodestepError';
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

/** Bad input from a user or a caller: maps to HTTP 400 / gRPC INVALID_ARGUMENT. */
export class ValidationError extends CodestepError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INVALID_ARGUMENT', message, details ? { details } : undefined);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends CodestepError {
  constructor(message: string) {
    super('NOT_FOUND', message);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends CodestepError {
  constructor(message: string) {
    super('ALREADY_EXISTS', message);
    this.name = 'ConflictError';
  }
}

export class UnauthenticatedError extends CodestepError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
    this.name = 'UnauthenticatedError';
  }
}

export function isCodestepError(value: unknown): value is CodestepError {
  return typeof value === 'object' && value !== null && (CODESTEP_ERROR in value || (typeof (value as { code?: unknown }).code === 'string' && value instanceof Error));
}

/** A plain, serialisable view of any thrown value. */
export function serializeError(error: unknown, fallbackCode = 'INTERNAL'): SerializedError {
  if (isCodestepError(error)) return error.toJSON();
  if (error instanceof Error) return { name: error.name, code: fallbackCode, message: error.message };
  return { name: 'Error', code: fallbackCode, message: String(error) };
}
