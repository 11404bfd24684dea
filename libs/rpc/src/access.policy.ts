/**
 * Who may call what between codestep's services: the one table of the internal gRPC methods and
 * the service identities allowed to call each. Every server checks it (`serve` in `./grpc.ts`)
 * against the identity in the caller's certificate; a method missing here refuses every caller,
 * and `serve` refuses to start a service with such a method, so a new method is decided here
 * before it can be reached. The README's "Service-to-service security" lists the same table.
 */

/** The identities of codestep's services, as their certificates name them (`spiffe://codestep/<identity>`). */
export const SERVICE_IDENTITIES = ['gateway', 'enrollment', 'log', 'executor', 'oauth-broker'] as const;
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];

/** The trust domain of the SPIFFE ids in codestep's certificates. */
export const TRUST_DOMAIN = 'codestep';

/** The URI a service's certificate carries as a subject alternative name. */
export function identityUri(identity: ServiceIdentity): string {
  return `spiffe://${TRUST_DOMAIN}/${identity}`;
}

export function isServiceIdentity(value: string): value is ServiceIdentity {
  return (SERVICE_IDENTITIES as readonly string[]).includes(value);
}

/** Per gRPC service (its full proto name): which identity serves it, and who may call each method. */
export const ACCESS_POLICY: Record<string, { servedBy: ServiceIdentity; methods: Record<string, readonly ServiceIdentity[]> }> = {
  'codestep.workflows.v1.Workflows': {
    servedBy: 'enrollment',
    methods: {
      CreateWorkflow: ['gateway'],
      UpdateWorkflow: ['gateway'],
      // The executor loads the version an action request names.
      GetWorkflow: ['gateway', 'executor'],
      ListWorkflows: ['gateway'],
      SetWorkflowStatus: ['gateway'],
      GetWorkflowState: ['gateway'],
      ListWorkflowVersions: ['gateway'],
      RollbackWorkflow: ['gateway'],
      GetWorkflowSchedule: ['gateway'],
    },
  },
  'codestep.enrollments.v1.Enrollments': {
    servedBy: 'enrollment',
    methods: { Enroll: ['gateway'], TestAction: ['gateway'], RetryEnrollment: ['gateway'], StartRetryJob: ['gateway'], GetRetryJob: ['gateway'], ResumeWait: ['gateway'] },
  },
  'codestep.history.v1.History': {
    servedBy: 'log',
    methods: { GetEnrollment: ['gateway'], ListEnrollments: ['gateway'], GetExecution: ['gateway'], Tail: ['gateway'] },
  },
  'codestep.credentials.v1.Credentials': {
    servedBy: 'oauth-broker',
    methods: {
      // Managing secrets and connections: the gateway only (the tenant's API, authenticated there).
      PutSecret: ['gateway'],
      ListSecrets: ['gateway'],
      DeleteSecret: ['gateway'],
      ListProviders: ['gateway'],
      CreateConnection: ['gateway'],
      StartAuthorization: ['gateway'],
      CompleteAuthorization: ['gateway'],
      ListConnections: ['gateway'],
      GetConnection: ['gateway'],
      RevokeConnection: ['gateway'],
      // Values leave the broker to executors only, and only under an execution grant.
      ResolveSecrets: ['executor'],
      GetOAuthToken: ['executor'],
      // The HubSpot receivers (portal → tenant) and the callback completer, in the gateway; tokens
      // for the platform's own calls on a tenant's behalf, never an action's.
      FindAccountConnection: ['gateway'],
      GetConnectionToken: ['gateway'],
    },
  },
};

/** `/pkg.Service/Method` → `[pkg.Service, Method]`. */
export function splitMethodPath(path: string): [string, string] {
  const [, service = '', method = ''] = /^\/([^/]+)\/([^/]+)$/.exec(path) ?? [];
  return [service, method];
}

/** The identities allowed to call a method (by its path), none when the table does not list it. */
export function callersOf(path: string): readonly ServiceIdentity[] {
  const [service, method] = splitMethodPath(path);
  return ACCESS_POLICY[service]?.methods[method] ?? [];
}

/** The identity that serves a gRPC service (by its full name). */
export function servedBy(service: string): ServiceIdentity | undefined {
  return ACCESS_POLICY[service]?.servedBy;
}
