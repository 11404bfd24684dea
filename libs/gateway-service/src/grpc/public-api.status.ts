/**
 * The public gRPC API's errors: a status code from the error catalogue, a bounded message, and a
 * `google.rpc.Status` in the `grpc-status-details-bin` trailer (gRPC's rich error model) with a
 * `google.rpc.ErrorInfo` (codestep's error code) and, for bad input, a `google.rpc.BadRequest`
 * whose field violation names the request field, in the request message's own field names.
 */
import { ERROR_CATALOGUE, isCodestepError, isErrorCode, type CodestepError } from '@codestep/core';
import { googleRpcErrorDetails, googleRpcStatus } from '@codestep/contracts';
import { grpc } from '@codestep/rpc';

/** Longest status message sent, characters (the message travels percent-encoded in the trailers). */
const MAX_MESSAGE = 1_000;
const TYPE_PREFIX = 'type.googleapis.com/';

/**
 * How the fields the shared commands name (the HTTP API's: `object.objectId`, `limit`,
 * `actions[0].code`) read in one method's request message; unnamed fields are snake-cased.
 */
export type FieldNames = (field: string) => string;

/** `object.objectId` → `object.object_id`; index brackets are kept. */
export const snakeCase: FieldNames = (field) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The request field a validation error names, from its details, in the method's field names. */
function fieldOf(error: CodestepError, names: FieldNames): string | undefined {
  const field = error.details?.field;
  return typeof field === 'string' && field ? names(field) : undefined;
}

/** A refusal of the public API as grpc-js sends it: code, message, and the rich details trailer. */
export function publicServiceError(error: unknown, names: FieldNames = snakeCase): grpc.ServiceError | undefined {
  if (!isCodestepError(error)) return undefined;
  const code = isErrorCode(error.code) ? (ERROR_CATALOGUE[error.code].grpc as number as grpc.status) : grpc.status.UNKNOWN;
  const message = error.message.length <= MAX_MESSAGE ? error.message : `${error.message.slice(0, MAX_MESSAGE)}… (cut)`;
  const details = [{ typeUrl: `${TYPE_PREFIX}google.rpc.ErrorInfo`, value: Buffer.from(googleRpcErrorDetails.ErrorInfo.encode({ reason: error.code, domain: 'codestep', metadata: {} }).finish()) }];
  const field = code === grpc.status.INVALID_ARGUMENT ? fieldOf(error, names) : undefined;
  if (field !== undefined) {
    const badRequest = Buffer.from(googleRpcErrorDetails.BadRequest.encode({ fieldViolations: [{ field, description: message }] }).finish());
    details.unshift({ typeUrl: `${TYPE_PREFIX}google.rpc.BadRequest`, value: badRequest });
  }
  const metadata = new grpc.Metadata();
  metadata.set('codestep-code', error.code);
  metadata.set('grpc-status-details-bin', Buffer.from(googleRpcStatus.Status.encode({ code, message, details }).finish()));
  return Object.assign(new Error(message), { code, details: message, metadata });
}

/** The `google.rpc.Status` of a refusal, decoded from its trailers (clients and tests). */
export function statusDetailsOf(error: {
  metadata?: grpc.Metadata;
}): { status: googleRpcStatus.Status; badRequest?: googleRpcErrorDetails.BadRequest; errorInfo?: googleRpcErrorDetails.ErrorInfo } | undefined {
  const raw = error.metadata?.get('grpc-status-details-bin')[0];
  if (!raw || typeof raw === 'string') return undefined;
  const status = googleRpcStatus.Status.decode(raw);
  const find = (name: string) => status.details.find((d) => d.typeUrl === `${TYPE_PREFIX}${name}`)?.value;
  const br = find('google.rpc.BadRequest');
  const info = find('google.rpc.ErrorInfo');
  return {
    status,
    ...(br ? { badRequest: googleRpcErrorDetails.BadRequest.decode(br) } : {}),
    ...(info ? { errorInfo: googleRpcErrorDetails.ErrorInfo.decode(info) } : {}),
  };
}
