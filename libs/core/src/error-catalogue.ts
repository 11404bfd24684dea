/**
 * Every failure code codestep produces, in one typed catalogue: whether the failure is worth
 * retrying, the HTTP and gRPC status it maps to at the transports, and the message a user sees
 * when the thrower has nothing more specific to say. The sandbox, the executor, the gateway, the
 * gRPC glue and the OpenAPI document all read it; a code that is not here does not type-check.
 *
 * `retryable` is about the failure itself: a retryable execution failure is retried by the
 * enrollment service's policy, a retryable API error may be retried by the caller as it is.
 */

/** gRPC status codes (the numbers of `google.rpc.Code`), so this lib needs no gRPC dependency. */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

export interface ErrorSpec {
  /** Where it is produced: the public API, an execution, egress, or credentials. */
  kind: 'api' | 'execution' | 'egress' | 'credentials';
  retryable: boolean;
  /** HTTP status at the gateway. */
  http: number;
  grpc: GrpcCode;
  /** Shown when the thrower gives no message of its own; says what to do. */
  userMessage: string;
}

const api = (http: number, grpc: GrpcCode, userMessage: string, retryable = false): ErrorSpec => ({ kind: 'api', retryable, http, grpc, userMessage });
const exec = (userMessage: string, retryable = false): ErrorSpec => ({ kind: 'execution', retryable, http: 422, grpc: GrpcCode.FAILED_PRECONDITION, userMessage });
const egress = (userMessage: string, retryable = false): ErrorSpec => ({ kind: 'egress', retryable, http: 502, grpc: GrpcCode.UNAVAILABLE, userMessage });
const cred = (http: number, grpc: GrpcCode, userMessage: string, retryable = false): ErrorSpec => ({ kind: 'credentials', retryable, http, grpc, userMessage });

export const ERROR_CATALOGUE = {
  INVALID_ARGUMENT: api(400, GrpcCode.INVALID_ARGUMENT, 'The request is not valid: fix the field named in the message and send it again.'),
  INVALID_JSON: api(400, GrpcCode.INVALID_ARGUMENT, 'The body is not valid JSON: send a JSON object.'),
  UNAUTHENTICATED: api(401, GrpcCode.UNAUTHENTICATED, 'Send a valid API key as "Authorization: Bearer csk_…".'),
  PERMISSION_DENIED: api(403, GrpcCode.PERMISSION_DENIED, 'This caller may not do that.'),
  NOT_FOUND: api(404, GrpcCode.NOT_FOUND, 'Nothing with that id exists for this tenant: check the id.'),
  METHOD_NOT_ALLOWED: api(405, GrpcCode.UNIMPLEMENTED, 'That method is not allowed on this path: see /openapi.json.'),
  ALREADY_EXISTS: api(409, GrpcCode.ALREADY_EXISTS, 'It exists already: use another name or update the existing one.'),
  CONFLICT: api(409, GrpcCode.ABORTED, 'It changed while this request ran: read it again and retry.', true),
  FAILED_PRECONDITION: api(409, GrpcCode.FAILED_PRECONDITION, 'It is not in a state that allows this: see the message.'),
  WORKFLOW_DISABLED: api(409, GrpcCode.FAILED_PRECONDITION, 'The workflow is disabled: enable it (POST /v1/workflows/{id}/enable) to enroll again.'),
  WORKFLOW_ARCHIVED: api(409, GrpcCode.FAILED_PRECONDITION, 'The workflow is archived: restore it (POST /v1/workflows/{id}/enable) to use it again.'),
  WAIT_ALREADY_RESUMED: api(409, GrpcCode.FAILED_PRECONDITION, 'This resume URL was used already: a wait resumes its run once.'),
  WAIT_EXPIRED: api(410, GrpcCode.FAILED_PRECONDITION, 'This wait timed out (or its run ended): nothing can resume it now.'),
  PAYLOAD_TOO_LARGE: api(413, GrpcCode.INVALID_ARGUMENT, 'The body is too large: send less.'),
  RESOURCE_EXHAUSTED: api(429, GrpcCode.RESOURCE_EXHAUSTED, 'Too many requests: wait and retry.', true),
  UNAVAILABLE: api(503, GrpcCode.UNAVAILABLE, 'A part of the platform is not reachable right now: retry shortly.', true),
  DEADLINE_EXCEEDED: api(504, GrpcCode.DEADLINE_EXCEEDED, 'The platform did not answer in time: retry.', true),
  STORE_UNAVAILABLE: api(503, GrpcCode.UNAVAILABLE, 'The document store is not reachable right now: retry shortly.', true),
  ABORTED: api(409, GrpcCode.ABORTED, 'Documents kept changing under the write: retry.', true),
  EVENT_LOG_UNAVAILABLE: api(503, GrpcCode.UNAVAILABLE, 'The event log is not reachable right now: retry shortly.', true),
  INVALID_CONFIG: api(500, GrpcCode.FAILED_PRECONDITION, "The platform's configuration is not valid: the operator must fix the variable named."),
  INTERNAL: api(500, GrpcCode.INTERNAL, 'Something went wrong on our side.'),
  UNKNOWN: api(500, GrpcCode.UNKNOWN, 'Something went wrong.'),

  USER_CODE_ERROR: exec("The action's code threw: see the message and its logs."),
  TIMEOUT: exec('The action did not finish within its time limit: make it faster or raise timeoutMs.'),
  MEMORY_LIMIT: exec('The action used more memory than its limit: use less or raise memoryMb.'),
  NO_ENTRY_POINT: exec('The code defines no entry point: export `main` (HubSpot) or a `Workflow` class (JsWorkflows).'),
  INVALID_OUTPUT: exec('An output field does not match its declared type: fix the value or the declaration.'),
  OUTPUT_VALUES_TOO_LARGE: exec('The outputs are too large: a string output may hold at most 65,000 characters.'),
  FAIL_CONTINUE: exec('The action returned hs_execution_state FAIL_CONTINUE: the workflow goes on.'),
  MODULE_NOT_ALLOWED: exec('The code requires a module that is not available: see the list of libraries.'),
  MODULE_LOAD_FAILED: exec('A library failed to load: retry; report it if it persists.', true),
  TOO_MANY_TIMERS: exec('The action started too many timers at once.'),
  SECRETS_TOO_LARGE: exec("The action's selected secrets are too long together: select fewer or shorter ones."),
  SECRET_NOT_FOUND: exec('A secret the action selects does not exist: create it or remove it from the action.'),
  RATE_LIMITED: exec('An HTTP call of the action was rate limited (429): it is retried later.', true),
  EXECUTOR_LOST: exec('The executor running the action stopped: it is retried.', true),
  EXECUTOR_DRAINING: exec('The executor is stopping: the action runs on another one.', true),
  EXECUTOR_ERROR: exec('The executor failed while preparing the action: it is retried.', true),
  SANDBOX_UNAVAILABLE: exec('No sandbox worker could run the action: it is retried.', true),
  SANDBOX_BUSY: exec('Every sandbox worker is busy: it is retried.', true),
  SANDBOX_OVERLOADED: exec('The sandbox has too many waiting executions: it is retried.', true),
  SANDBOX_NOT_READY: exec('The sandbox is still starting: it is retried.', true),
  SANDBOX_CLOSED: exec('The sandbox is shutting down: it is retried.', true),
  SANDBOX_CRASHED: exec('The sandbox process crashed while running the action: it is retried.', true),
  SANDBOX_HOST_EXITED: exec('The sandbox process exited: it is retried.', true),
  SANDBOX_WORKER_CRASHED: exec('The sandbox worker running the action crashed.'),
  SANDBOX_START_FAILED: exec('The sandbox could not start: the operator must check its logs.', true),
  SANDBOX_INTERNAL: exec('The sandbox failed internally: report it.'),
  RUNTIME_BUILD_FAILED: exec("The sandbox's runtime could not be built: the operator must check its logs."),
  ACTION_FAILED: exec('The workflow failed: see its history for the failing action.'),
  INVALID_STEP: exec('A call to api.scheduleNextStep or api.waitForEvent named an unknown action, a delay or timeout out of bounds or a payload too large: see the message.'),
  WORKFLOW_LIMIT: exec("The run went over a cap on its chain depth or its branches: end the chain (don't schedule a step from itself forever) or ask the operator for more."),

  EGRESS_BLOCKED: egress('The address is not allowed: only public http(s) hosts, or hosts the operator allow-lists.'),
  EGRESS_INVALID_REQUEST: egress('The outbound request is not valid: check the URL and method.'),
  EGRESS_LIMIT: egress("The action's outbound requests went over a cap (count, bytes or concurrency)."),
  EGRESS_NETWORK: egress('The remote host could not be reached.', true),
  EGRESS_TIMEOUT: egress('The remote host did not answer in time.', true),
  EGRESS_REDIRECT: egress('Too many redirects, or a redirect to a refused address.'),
  EGRESS_ABORTED: egress('The outbound request was aborted.'),

  NEEDS_REAUTH: cred(409, GrpcCode.FAILED_PRECONDITION, 'The connection must be authorized again: reconnect it.'),
  NOT_AUTHORIZED: cred(409, GrpcCode.FAILED_PRECONDITION, 'The connection has not been authorized yet: open its authorizeUrl.'),
  NOT_DECLARED: cred(403, GrpcCode.PERMISSION_DENIED, 'The action does not declare that connection: add it to the action.'),
  REVOKED: cred(409, GrpcCode.FAILED_PRECONDITION, 'The connection was revoked: connect it again.'),
  DECRYPTION_FAILED: cred(500, GrpcCode.INTERNAL, 'Stored credentials could not be decrypted: the operator must check CODESTEP_MASTER_KEY.'),
  BAD_REFRESH_TOKEN: cred(409, GrpcCode.FAILED_PRECONDITION, 'The provider refused the refresh token: reconnect the connection.'),
  INVALID_REQUEST: cred(400, GrpcCode.INVALID_ARGUMENT, 'The authorization callback is missing its code or state.'),
  INVALID_STATE: cred(400, GrpcCode.INVALID_ARGUMENT, 'The authorization state is unknown or was used already: start again.'),
  STATE_EXPIRED: cred(400, GrpcCode.INVALID_ARGUMENT, 'The authorization took too long: start again.'),
  CONNECTION_GONE: cred(404, GrpcCode.NOT_FOUND, 'The connection was deleted while it was being authorized.'),
  PROVIDER_DENIED: cred(400, GrpcCode.FAILED_PRECONDITION, 'The user or the provider denied the authorization.'),
  PROVIDER_REJECTED: cred(502, GrpcCode.FAILED_PRECONDITION, "The provider rejected the platform's request: check the OAuth app's settings."),
  PROVIDER_UNAVAILABLE: cred(502, GrpcCode.UNAVAILABLE, 'The provider could not be reached: retry.', true),
  PROVIDER_NOT_CONFIGURED: cred(400, GrpcCode.FAILED_PRECONDITION, 'The operator has not configured this OAuth provider.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Every code, in catalogue order (the OpenAPI document lists them). */
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The catalogue's entry for a code; an unknown code (from an older peer, say) is INTERNAL's. */
export function errorSpecOf(code: string): ErrorSpec {
  return isErrorCode(code) ? ERROR_CATALOGUE[code] : ERROR_CATALOGUE.INTERNAL;
}
