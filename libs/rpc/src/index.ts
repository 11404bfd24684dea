export { createClient, fromServiceError, grpc, implement, serve, type ClientOptions, type GrpcServer, type PromiseClient, type ServerSecurity } from './grpc.ts';
export { ACCESS_POLICY, SERVICE_IDENTITIES, callersOf, identityUri, isServiceIdentity, servedBy, type ServiceIdentity } from './access.policy.ts';
export { certificateExpiry, createCertificateAuthority, issueCertificate, issueClientCertificate, issueServiceCertificate, type PemPair } from './certificate.authority.ts';
export { callerOfPeer, identityOfCertificate, serverCredentials, type TlsIdentity } from './mtls.credentials.ts';
export { createLocalClient, type LocalClientOptions } from './local.client.ts';
export { callDeadline, withCallDeadline, withoutCallDeadline } from './call.deadline.ts';
