export { createClient, fromServiceError, grpc, implement, serve, type ClientOptions, type GrpcServer, type PromiseClient } from './grpc.ts';
