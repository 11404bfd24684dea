/** The OpenAPI 3.1 document of the public HTTP API, served at GET /openapi.json. */
import { ACCEPTED_RUNTIME_VERSIONS, DEFAULT_RUNTIME_VERSION, ERROR_CODES } from '@codestep/core';
import { DEFAULT_OPERATOR_LIMITS as OPERATOR, LIMIT_MINIMUMS as MIN } from '@codestep/workflows';
import { ENROLLMENT_STATUSES, LIMIT_PARAM, MAX_LOG_PAGE_LINES, VERSION_PARAM } from './api.routes.ts';
import { clientConfigPaths } from './client-config.routes.ts';
import { apiKeySchemas, apiKeysPaths, tenantLimitsSchemas, tenantPaths } from './openapi.tenant.ts';
import { conflict, errors, idParam, json, nextCursor, pageParams, ref } from './openapi.parts.ts';
import { PAGE_LIMIT } from './paging.ts';
import { hubspotPaths } from './openapi.hubspot.ts';
import { resumePaths, waitSchema } from './openapi.resume.ts';
import { DRY_RUN_QUERY_PARAM, OBJECT_TYPE_SCHEMA, SAVE_WARNINGS_SCHEMA, workflowOpsPaths, workflowOpsSchemas } from './openapi.workflow-ops.ts';

/** The document, with `serverUrl` as its one server; paths and schemas are grouped by resource below. */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'codestep API',
      version: '0.1.0',
      description: 'Workflows of custom code actions (HubSpot-compatible), enrollments and their history. Authenticate with `Authorization: Bearer <API key>`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: serverUrl }],
    security: [{ apiKey: [] }],
    paths: {
      ...workflowsPaths(),
      ...workflowOpsPaths(),
      ...enrollmentsPaths(),
      ...executionsPaths(),
      ...secretsPaths(),
      ...connectionsPaths(),
      ...hooksPaths(),
      ...resumePaths(),
      ...oauthPaths(),
      ...tenantPaths(),
      ...clientConfigPaths(),
      ...apiKeysPaths(),
      ...hubspotPaths(),
      '/healthz': {
        get: {
          operationId: 'health',
          summary: 'Liveness',
          security: [],
          responses: { '200': { description: 'OK' }, '400': { description: 'The request target is not a path', ...json(ref('Error')) } },
        },
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          properties: {
            error: {
              type: 'object',
              properties: { code: { type: 'string', enum: ERROR_CODES, description: 'A code of the error catalogue (libs/core/src/error-catalogue.ts)' }, message: { type: 'string' } },
            },
          },
        },
        CrmObject: {
          type: 'object',
          required: ['objectId'],
          properties: {
            objectType: { type: 'string', example: 'CONTACT' },
            objectId: { type: ['string', 'integer'] },
            properties: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
          },
        },
        ...actionSchemas(),
        ...tenantLimitsSchemas(),
        ...apiKeySchemas(),
        ...workflowSchemas(),
        ...workflowOpsSchemas(),
        ...historySchemas(),
      },
    },
  };
}

/** Workflows: created, listed, read by version, published again. */
function workflowsPaths(): Record<string, unknown> {
  return {
    '/v1/workflows': {
      post: {
        operationId: 'createWorkflow',
        summary: 'Create a workflow (version 1)',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' } }],
        requestBody: json(ref('WorkflowInput')),
        responses: { '201': { description: 'Created', ...json(ref('Workflow')) }, ...errors },
      },
      get: {
        operationId: 'listWorkflows',
        summary: 'List workflows (latest versions, by id, in pages; archived ones with ?includeArchived=true)',
        parameters: [{ name: 'includeArchived', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } }, ...pageParams(PAGE_LIMIT)],
        responses: { '200': { description: 'OK', ...json({ type: 'object', properties: { workflows: { type: 'array', items: ref('Workflow') }, nextCursor } }) }, ...errors },
      },
    },
    '/v1/workflows/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: 'getWorkflow',
        summary: 'Get a workflow (latest, or ?version=N)',
        parameters: [{ name: 'version', in: 'query', schema: { type: 'integer', minimum: VERSION_PARAM.min, maximum: VERSION_PARAM.max, description: '0 or absent: the latest' } }],
        responses: { '200': { description: 'OK', ...json(ref('Workflow')) }, ...errors },
      },
      put: {
        operationId: 'publishWorkflowVersion',
        summary: 'Publish a new version (none when the body equals the latest version: that version is the answer)',
        requestBody: json(ref('WorkflowInput')),
        responses: { '200': { description: 'OK', ...json(ref('Workflow')) }, ...errors, ...conflict },
      },
      delete: {
        operationId: 'archiveWorkflow',
        summary: 'Archive the workflow: gone from the list, refuses enrollments and webhook calls (409 WORKFLOW_ARCHIVED); its versions and history are kept; POST …/enable restores it',
        responses: { '200': { description: 'Archived', ...json(ref('WorkflowState')) }, ...errors },
      },
    },
  };
}

/** Enrollments: a CRM object enrolled in a workflow, listed, and one with its history. */
function enrollmentsPaths(): Record<string, unknown> {
  return {
    '/v1/workflows/{id}/enrollments': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      post: {
        operationId: 'enroll',
        summary: 'Enroll a CRM object into the workflow',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string' }, description: 'The same key enrolls once' }, DRY_RUN_QUERY_PARAM],
        requestBody: json({ type: 'object', required: ['object'], properties: { object: ref('CrmObject') } }),
        responses: {
          '202': {
            description: 'Accepted; runs asynchronously',
            ...json({ type: 'object', properties: { id: { type: 'string' }, workflowVersion: { type: 'integer' }, status: { type: 'string' } } }),
          },
          ...errors,
          ...conflict,
        },
      },
    },
    '/v1/enrollments': {
      get: {
        operationId: 'listEnrollments',
        summary: 'List enrollments, newest first',
        parameters: [
          { name: 'workflowId', in: 'query', schema: { type: 'string' } },
          { name: 'status', in: 'query', schema: { type: 'string', enum: [...ENROLLMENT_STATUSES] } },
          ...pageParams(LIMIT_PARAM),
          { name: 'objectId', in: 'query', schema: { type: 'string', maxLength: 200 }, description: "The enrolled object's id" },
          { name: 'startedAfter', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'Started at or after this time (ISO 8601 with its zone)' },
          { name: 'startedBefore', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'Started before this time (ISO 8601 with its zone); after startedAfter' },
        ],
        description:
          "Pages with a cursor that works with every filter: send the same filters with the previous page's nextCursor. Ties of startedAt are ordered by id, so no enrollment is repeated or skipped between pages.",
        responses: {
          '200': {
            description: 'OK',
            ...json({ type: 'object', required: ['enrollments', 'nextCursor'], properties: { enrollments: { type: 'array', items: ref('Enrollment') }, nextCursor } }),
          },
          ...errors,
        },
      },
    },
    '/v1/enrollments/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: 'getEnrollment',
        summary: "An enrollment's history: status, each execution's inputs, outputs, logs and errors",
        responses: { '200': { description: 'OK', ...json(ref('Enrollment')) }, ...errors },
      },
    },
  };
}

/** Executions: one by id, and the live tail of logs and status changes. */
function executionsPaths(): Record<string, unknown> {
  return {
    '/v1/executions/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        operationId: 'getExecution',
        summary: 'One execution, with a page of its console lines',
        description:
          'Console lines come in pages: `logs` starts at line `logsOffset` of `logsTotal`; when `nextLinesAfter` is not null, ask again with `?linesAfter=` set to it. An enrollment shows the first lines of each execution within a budget, with the same fields.',
        parameters: [
          { name: 'linesAfter', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 }, description: 'Skip this many console lines (the previous page’s nextLinesAfter)' },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: MAX_LOG_PAGE_LINES, default: MAX_LOG_PAGE_LINES },
            description: 'Most console lines in the page (a page also stays under 1 MiB)',
          },
        ],
        responses: { '200': { description: 'OK', ...json(ref('Execution')) }, ...errors },
      },
    },
    '/v1/tail': {
      get: {
        operationId: 'tail',
        summary: 'Live tail (server-sent events) of logs and status changes',
        parameters: [
          { name: 'enrollmentId', in: 'query', schema: { type: 'string' } },
          { name: 'workflowId', in: 'query', schema: { type: 'string' }, description: "The runs of one workflow (from each run's next event after the stream opens)" },
        ],
        responses: { '200': { description: 'text/event-stream' }, ...errors },
      },
    },
  };
}

/** Action secrets: set, deleted, listed by name (never values). */
function secretsPaths(): Record<string, unknown> {
  return {
    '/v1/secrets/{name}': {
      parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
      put: {
        operationId: 'setSecret',
        summary: 'Set an action secret (encrypted at rest)',
        requestBody: json({ type: 'object', required: ['value'], properties: { value: { type: 'string' } } }),
        responses: { '200': { description: 'OK' }, ...errors },
      },
      delete: { operationId: 'deleteSecret', summary: 'Delete a secret', responses: { '200': { description: 'OK' }, ...errors } },
    },
    '/v1/secrets': {
      get: {
        operationId: 'listSecrets',
        summary: 'List secret names (never values), by name, in pages',
        parameters: pageParams(PAGE_LIMIT),
        responses: {
          '200': {
            description: 'OK',
            ...json({
              type: 'object',
              properties: { secrets: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, updatedAt: { type: ['string', 'null'] } } } }, nextCursor },
            }),
          },
          ...errors,
        },
      },
    },
  };
}

/** OAuth connections: created, listed, read, revoked. */
function connectionsPaths(): Record<string, unknown> {
  return {
    '/v1/connections': {
      post: { operationId: 'createConnection', summary: 'Create an OAuth connection and get the authorize URL', responses: { '201': { description: 'Created' }, ...errors } },
      get: {
        operationId: 'listConnections',
        summary: 'List connections, by handle, in pages',
        parameters: pageParams(PAGE_LIMIT),
        responses: { '200': { description: 'OK', ...json({ type: 'object', properties: { connections: { type: 'array', items: { type: 'object' } }, nextCursor } }) }, ...errors },
      },
    },
    '/v1/connections/{handle}': {
      parameters: [{ name: 'handle', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'getConnection', summary: 'A connection', responses: { '200': { description: 'OK' }, ...errors } },
      delete: { operationId: 'revokeConnection', summary: 'Revoke a connection', responses: { '200': { description: 'OK' }, ...errors } },
    },
  };
}

/** Webhooks: a workflow's secret hook path, and the trigger itself. */
function hooksPaths(): Record<string, unknown> {
  return {
    '/v1/workflows/{id}/webhook': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      post: {
        operationId: 'createWebhook',
        summary: "The workflow's secret webhook URL path (created on first call)",
        responses: { '200': { description: 'OK', ...json({ type: 'object', properties: { workflowId: { type: 'string' }, path: { type: 'string', example: '/hooks/hk_…' } } }) }, ...errors },
      },
      delete: {
        operationId: 'revokeWebhook',
        summary: "Revoke the workflow's webhook URL: it is refused (404) at once; POST …/webhook makes a new one",
        responses: { '200': { description: 'Revoked' }, ...errors },
      },
    },
    '/v1/workflows/{id}/webhook/rotate': {
      parameters: [idParam],
      post: {
        operationId: 'rotateWebhook',
        summary: 'A new webhook URL for the workflow; the old one is refused (404) at once',
        responses: {
          '200': { description: 'OK', ...json({ type: 'object', properties: { workflowId: { type: 'string' }, path: { type: 'string' }, rotated: { type: 'boolean' } } }) },
          ...errors,
          ...conflict,
        },
      },
    },
    '/hooks/{token}': {
      parameters: [{ name: 'token', in: 'path', required: true, schema: { type: 'string' } }],
      post: {
        operationId: 'callWebhook',
        summary:
          "Webhook trigger: data = JSON body merged over the query parameters, headers = the request's; answers with what the last action's start returned, as soon as it returned (a JsWorkflows run's later steps go on)",
        security: [],
        responses: {
          '200': { description: 'start\'s return value as JSON; {"success": true} when it returned nothing. A Response start returned is sent as it is (its status, headers and body)' },
          '202': { description: 'Still running after the wait; the body has the enrollment id' },
          '404': { description: 'Unknown hook (or rotated, or revoked)' },
          '409': { description: 'The workflow is disabled or archived' },
          '500': { description: 'The workflow failed; the body has the error' },
        },
      },
      get: {
        operationId: 'callWebhookGet',
        summary: 'Webhook trigger (query parameters only)',
        security: [],
        responses: { '200': { description: "start's return value" }, '404': { description: 'Unknown hook (or rotated, or revoked)', ...json(ref('Error')) } },
      },
    },
  };
}

/** OAuth authorization: the providers, a new authorize URL, and the provider's redirect target. */
function oauthPaths(): Record<string, unknown> {
  return {
    '/v1/oauth-providers': {
      get: { operationId: 'listOAuthProviders', summary: 'Providers the operator configured, with the HubSpot preset permissions', responses: { '200': { description: 'OK' }, ...errors } },
    },
    '/v1/connections/{handle}/authorize': {
      parameters: [{ name: 'handle', in: 'path', required: true, schema: { type: 'string' } }],
      post: { operationId: 'authorizeConnection', summary: 'A new authorize URL (reconnect a connection that needs re-authorization)', responses: { '200': { description: 'OK' }, ...errors } },
    },
    '/oauth/callback': {
      get: {
        operationId: 'oauthCallback',
        summary: "The OAuth provider's redirect target",
        security: [],
        responses: { '200': { description: 'Connected' }, '400': { description: 'Provider error, shown plainly' } },
      },
    },
  };
}

/** An action of a workflow: its code, fields, secrets, connections and limits. */
function actionSchemas(): Record<string, unknown> {
  return {
    OutputField: {
      type: 'object',
      required: ['name', 'type'],
      properties: { name: { type: 'string' }, type: { enum: ['number', 'string', 'boolean', 'datetime', 'enum', 'date', 'phone_number'] }, options: { type: 'array', items: { type: 'string' } } },
    },
    InputField: {
      type: 'object',
      required: ['name'],
      description: 'Exactly one of value, property, fromAction',
      properties: {
        name: { type: 'string' },
        value: { type: ['string', 'number', 'boolean'] },
        property: { type: 'string' },
        fromAction: { type: 'object', properties: { actionId: { type: 'string' }, field: { type: 'string' } } },
      },
    },
    Action: {
      type: 'object',
      required: ['code'],
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        runtime: { enum: ['hubspot', 'jsworkflows'], default: 'hubspot' },
        runtimeVersion: {
          enum: [...ACCEPTED_RUNTIME_VERSIONS],
          default: DEFAULT_RUNTIME_VERSION,
          description:
            "The libraries `require` gives, as HubSpot's Node version choice: node20 = HubSpot's documented set (@hubspot/api-client 10, mongoose 6, redis 4, googleapis 67, ...), node24 = today's versions (@hubspot/api-client 13, mongoose 9, redis 5, googleapis 171, ...), latest = node24. Saved resolved (latest is saved as node24); a workflow keeps the version it was saved with. Actions saved before runtime versions existed show node24, what they ran then. Another value is refused with 400",
        },
        code: { type: 'string', description: 'exports.main = async (event) => ({ outputFields })' },
        inputFields: { type: 'array', items: ref('InputField') },
        outputFields: { type: 'array', items: ref('OutputField') },
        secrets: { type: 'array', items: { type: 'string' } },
        connections: { type: 'array', items: { type: 'string' } },
        timeoutMs: {
          type: 'integer',
          minimum: MIN.timeoutMs,
          description: `Wall time, ms. Absent: the tenant's defaultTimeoutMs (else the operator's, ${OPERATOR.defaultTimeoutMs} unless configured). At most the tenant's maxTimeoutMs; more is refused with 400`,
        },
        memoryMb: {
          type: 'integer',
          minimum: MIN.memoryMb,
          description: `Memory, MB. Absent: the tenant's defaultMemoryMb (else the operator's, ${OPERATOR.defaultMemoryMb} unless configured). At most the tenant's maxMemoryMb; more is refused with 400`,
        },
      },
    },
  };
}

/** A workflow as sent, and as stored (with id, version and creation time). */
function workflowSchemas(): Record<string, unknown> {
  return {
    WorkflowInput: {
      type: 'object',
      required: ['name', 'actions'],
      properties: {
        name: { type: 'string' },
        objectType: OBJECT_TYPE_SCHEMA,
        actions: { type: 'array', items: ref('Action') },
        trigger: ref('ScheduleTrigger'),
        crmProperties: {
          type: 'array',
          maxItems: 100,
          items: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$' },
          description:
            "HubSpot properties the actions need (internal names, e.g. email, firstname). An enrollment whose object lacks some of them, in an account with a HubSpot connection, reads them from HubSpot with that connection's token before the first action; what was read is the enrollment's crmRead",
        },
      },
    },
    Workflow: {
      allOf: [
        ref('WorkflowInput'),
        {
          type: 'object',
          properties: {
            id: { type: 'string' },
            version: { type: 'integer' },
            createdAt: { type: 'string', format: 'date-time' },
            rolledBackFrom: { type: 'integer', description: 'Set on a rollback: the version this one restores' },
            status: { enum: ['enabled', 'disabled', 'archived'] },
            statusChangedAt: { type: ['string', 'null'], format: 'date-time' },
            warnings: SAVE_WARNINGS_SCHEMA,
          },
        },
      ],
    },
  };
}

/** The history: an execution, and an enrollment with its executions. */
function historySchemas(): Record<string, unknown> {
  return {
    Execution: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        actionId: { type: 'string' },
        status: {
          enum: ['scheduled', 'waiting', 'timed_out', 'requested', 'running', 'succeeded', 'failed', 'retry_scheduled'],
          description:
            'scheduled: a JsWorkflows step waiting for its due time; waiting: the step of an api.waitForEvent wait whose resume URL was not called yet; timed_out: one whose timeout came first (it never runs)',
        },
        inputFields: { type: 'object' },
        outputFields: { type: 'object' },
        logs: { type: 'array', items: { type: 'object' }, description: 'A page of the console lines, from logsOffset' },
        logsTruncated: { type: 'boolean', description: 'The sandbox dropped lines over its caps' },
        logsTotal: { type: 'integer', description: 'Console lines stored for the execution' },
        logsOffset: { type: 'integer', description: 'Index of the first line of logs' },
        nextLinesAfter: { type: ['integer', 'null'], description: 'linesAfter for the next page; null when logs reach the last line' },
        moreLogs: { type: 'string', description: 'The path of the next page, when there is one' },
        error: { type: ['object', 'null'] },
        traceId: { type: ['string', 'null'] },
        dryRun: { type: 'boolean', description: 'A dry run (absent otherwise)' },
        dryRunLedger: ref('DryRunLedger'),
        workflowStep: {
          type: 'object',
          description:
            'JsWorkflows only: the step (method of the Workflow class) this execution ran and its place in the run: its branch (root for start), its chain depth, the execution that scheduled it and when it was due',
          properties: {
            name: { type: 'string' },
            branch: { type: 'string' },
            depth: { type: 'integer' },
            scheduledBy: { type: ['string', 'null'] },
            dueAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        wait: waitSchema,
      },
    },
    Enrollment: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        workflowId: { type: 'string' },
        status: { enum: ['running', 'completed', 'failed'] },
        error: { type: ['object', 'null'] },
        dryRun: { type: 'boolean', description: 'Started with ?dryRun=true (absent otherwise)' },
        crmRead: {
          type: 'object',
          description: "The workflow's crmProperties the object lacked, read from HubSpot before the first action (absent: nothing read)",
          properties: {
            connection: { type: 'string', description: 'The HubSpot connection whose token read them' },
            properties: { type: 'array', items: { type: 'string' }, description: 'The properties asked for' },
            values: { type: 'object', additionalProperties: { type: 'string' }, description: 'Those HubSpot had a value for (also in object.properties)' },
            readAt: { type: ['string', 'null'], format: 'date-time' },
            error: { type: 'string', description: 'Why they could not be read; the enrollment ran with the object as it came' },
          },
        },
        hubspotCallback: {
          type: 'object',
          description:
            "Started by the HubSpot app's workflow action and answered BLOCK: the callback completion HubSpot has not taken yet (429, 5XX), tried again as its Retry-After says (else a doubling backoff), or given up once the block expired (absent: HubSpot took it at once, or none to complete)",
          properties: {
            callbackId: { type: 'string', description: "HubSpot's callback id" },
            attempts: { type: 'integer', description: 'Calls to HubSpot so far' },
            status: { enum: ['retrying', 'gave_up'] },
            error: { type: 'string', description: 'What HubSpot answered last' },
            nextAttemptAt: { type: ['string', 'null'], format: 'date-time', description: 'When it is tried again (null: given up)' },
            expiresAt: { type: ['string', 'null'], format: 'date-time', description: "The BLOCK's expiration: HubSpot takes no callback after it" },
          },
        },
        executions: { type: 'array', items: ref('Execution') },
      },
    },
  };
}
