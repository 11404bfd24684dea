/**
 * Generated protobuf contracts (ts-proto, from proto/). The generated code lives in
 * ./generated and is rebuilt by `nx run contracts:codegen`; never edit it by hand.
 */
export * from './generated/events.ts';
export * as workflowsV1 from './generated/codestep/workflows/v1/workflows.ts';
export * as enrollmentsV1 from './generated/codestep/enrollments/v1/enrollments.ts';
export * as historyV1 from './generated/codestep/history/v1/history.ts';
export * as credentialsV1 from './generated/codestep/credentials/v1/credentials.ts';
export * as publicV1 from './generated/codestep/public/v1/api.ts';
export * as googleRpcStatus from './generated/google/rpc/status.ts';
export * as googleRpcErrorDetails from './generated/google/rpc/error_details.ts';
/** The protobuf writer the generated `encode` functions take, for a caller that reuses one (`@codestep/events`' records). */
export { BinaryWriter } from '@bufbuild/protobuf/wire';
