/** The OpenAPI sections of day-two operations on workflows: lifecycle, versions, diff, rollback. */
import { conflict, errors, idParam, json, nextCursor, pageParams, ref } from './openapi.parts.ts';
import { PAGE_LIMIT } from './paging.ts';

/** Day-two operations on a workflow: enable, disable, versions, diff, rollback. */
export function workflowOpsPaths(): Record<string, unknown> {
  return { ...lifecyclePaths(), ...actionTestPaths(), ...retryPaths(), ...batchPaths() };
}

/** Bulk enrollment. */
function batchPaths(): Record<string, unknown> {
  const row = {
    type: 'object',
    required: ['objectId'],
    properties: {
      objectId: { type: ['string', 'integer'] },
      objectType: { type: 'string' },
      properties: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
      idempotencyKey: { type: 'string', maxLength: 200, description: 'Enrolls once across batches; absent: one derived from the job and the line' },
    },
  };
  return {
    '/v1/workflows/{id}/enrollments:batch': {
      parameters: [idParam],
      post: {
        operationId: 'enrollBatch',
        summary: 'Enroll up to 100,000 objects (a JSON array, or NDJSON: one object per line), answered at once with a job; bad rows are reported with their line and never stop the good ones',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 }, description: 'The same key is the same job' }],
        requestBody: { content: { 'application/json': { schema: { type: 'array', maxItems: 100000, items: row } }, 'application/x-ndjson': { schema: { type: 'string' } } } },
        responses: { '202': { description: 'Accepted: the job', ...json(ref('EnrollmentBatch')) }, ...errors, '413': { description: 'Body over 64 MiB', ...json(ref('Error')) } },
      },
    },
    '/v1/enrollment-batches/{id}': {
      parameters: [idParam],
      get: { operationId: 'getEnrollmentBatch', summary: "A bulk enrollment's progress and row errors", responses: { '200': { description: 'OK', ...json(ref('EnrollmentBatch')) }, ...errors } },
    },
  };
}

/** Re-running what failed: one enrollment, or a bulk job. */
function retryPaths(): Record<string, unknown> {
  const version = { enum: ['original', 'latest'], default: 'original', description: 'Run on the version the enrollment failed on, or the latest' };
  return {
    '/v1/enrollments/{id}/retry': {
      parameters: [idParam],
      post: {
        operationId: 'retryEnrollment',
        summary: 'Re-run a failed enrollment from its failed step (earlier outputs kept), optionally with edited inputs for that step: a new attempt in the same history (an EnrollmentRetried event)',
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: { version, inputFields: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }, reason: { type: 'string', maxLength: 500 } },
          }),
        },
        responses: {
          '202': {
            description: 'Running again',
            ...json({
              type: 'object',
              properties: { id: { type: 'string' }, round: { type: 'integer' }, executionId: { type: 'string' }, workflowVersion: { type: 'integer' }, actionId: { type: 'string' } },
            }),
          },
          ...errors,
          '409': { description: 'Not failed (running or completed), disabled workflow, or the latest version lacks the failed action', ...json(ref('Error')) },
        },
      },
    },
    '/v1/workflows/{id}/retries': {
      parameters: [idParam],
      post: {
        operationId: 'startRetryJob',
        summary: 'Retry every failed enrollment of the workflow a filter matches (newest failures first, at most limit), as a job',
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 }, description: 'The same key starts one job' }],
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: {
              status: { enum: ['failed'] },
              errorCode: { type: 'string', description: 'A code of the error catalogue' },
              failedAfter: { type: 'string', format: 'date-time' },
              failedBefore: { type: 'string', format: 'date-time' },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
              version,
            },
          }),
        },
        responses: { '202': { description: 'Started', ...json(ref('RetryJob')) }, ...errors },
      },
    },
    '/v1/retries/{id}': {
      parameters: [idParam],
      get: { operationId: 'getRetryJob', summary: "A bulk retry job's progress and each enrollment's outcome", responses: { '200': { description: 'OK', ...json(ref('RetryJob')) }, ...errors } },
    },
  };
}

/** Enable, disable, versions, diff, rollback. */
function lifecyclePaths(): Record<string, unknown> {
  const reason = json({ type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } });
  return {
    '/v1/workflows/{id}/enable': {
      parameters: [idParam],
      post: {
        operationId: 'enableWorkflow',
        summary: 'Enable the workflow (or restore an archived one): enrollments and webhook calls are accepted again (a WorkflowStatusChanged event)',
        requestBody: { required: false, ...reason },
        responses: { '200': { description: 'OK', ...json(ref('WorkflowState')) }, ...errors },
      },
    },
    '/v1/workflows/{id}/disable': {
      parameters: [idParam],
      post: {
        operationId: 'disableWorkflow',
        summary: 'Disable the workflow: new enrollments and webhook calls get 409 WORKFLOW_DISABLED; enrollments already running finish (a WorkflowStatusChanged event)',
        requestBody: { required: false, ...reason },
        responses: { '200': { description: 'OK', ...json(ref('WorkflowState')) }, ...errors },
      },
    },
    '/v1/workflows/{id}/schedule': {
      parameters: [idParam],
      get: {
        operationId: 'getWorkflowSchedule',
        summary: "The workflow's schedule trigger as it will fire: armed or not (a trigger, and the workflow enabled), the next 5 fire times, the last tick (fired or skipped)",
        responses: { '200': { description: 'OK', ...json(ref('WorkflowSchedule')) }, ...errors },
      },
    },
    '/v1/workflows/{id}/versions': {
      parameters: [idParam],
      get: {
        operationId: 'listWorkflowVersions',
        summary: 'Every version of the workflow, newest first (without code), in pages',
        parameters: pageParams(PAGE_LIMIT),
        responses: {
          '200': { description: 'OK', ...json({ type: 'object', properties: { workflowId: { type: 'string' }, versions: { type: 'array', items: ref('WorkflowVersionSummary') }, nextCursor } }) },
          ...errors,
        },
      },
    },
    '/v1/workflows/{id}/diff': {
      parameters: [idParam],
      get: {
        operationId: 'diffWorkflowVersions',
        summary: 'What changed from one version to another: name, object type, actions added, removed, moved or changed, each changed field, and a unified diff of the code',
        parameters: [
          { name: 'from', in: 'query', schema: { type: 'integer', minimum: 0, description: 'Absent or 0: the version before `to`' } },
          { name: 'to', in: 'query', schema: { type: 'integer', minimum: 0, description: 'Absent or 0: the latest' } },
        ],
        responses: { '200': { description: 'OK', ...json(ref('WorkflowDiff')) }, ...errors },
      },
    },
    '/v1/workflows/{id}/rollback': {
      parameters: [idParam],
      post: {
        operationId: 'rollbackWorkflow',
        summary: 'Publish a new version equal to an older one (marked rolledBackFrom); none when the latest already equals it',
        requestBody: json({ type: 'object', required: ['toVersion'], additionalProperties: false, properties: { toVersion: { type: 'integer', minimum: 1 } } }),
        responses: { '200': { description: 'OK', ...json(ref('Workflow')) }, ...errors, ...conflict },
      },
    },
  };
}

/** Testing one action of a saved version. */
function actionTestPaths(): Record<string, unknown> {
  return {
    '/v1/workflows/{id}/actions/{actionId}/test': {
      parameters: [idParam, { name: 'actionId', in: 'path', required: true, schema: { type: 'string' } }],
      post: {
        operationId: 'testAction',
        summary: "Test one action of a saved version with the tenant's secrets and connections: outputs, logs, error and duration; in no enrollment's history, nothing runs after it",
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 200 }, description: 'The same key runs one test' }],
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            additionalProperties: false,
            properties: {
              version: { type: 'integer', minimum: 0, description: '0 or absent: the latest' },
              object: {
                type: 'object',
                additionalProperties: false,
                description:
                  "The record the action runs for. With objectId and no properties, the record's properties (those the action reads, and HubSpot's defaults) are read from HubSpot through the account's HubSpot connection (`connection`, or its only active one); without a HubSpot connection it runs with no properties",
                properties: {
                  objectType: { type: 'string', example: 'CONTACT', description: "Absent: the workflow's" },
                  objectId: { type: ['string', 'integer'] },
                  properties: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
                  connection: { type: 'string', description: 'The HubSpot connection to read the record with' },
                },
              },
              dryRun: {
                type: 'boolean',
                description:
                  'HTTP requests that read (GET, HEAD, OPTIONS; HubSpot searches and batch reads) go out; the others are not sent, answered with the synthetic response (201 to a POST, 204 to a DELETE, 200 otherwise; header x-codestep-dry-run: true; body {"dryRun": true, "id": "dry-run-<n>", "method", "url"}) and listed in dryRunLedger; sockets are refused',
              },
              action: {
                ...ref('Action'),
                description:
                  'A draft of the action, not saved: checked as a save checks it (400 naming action.<field>) and run in place of the saved action (or after the saved ones when it is new), with the secrets and connections it selects',
              },
              inputFields: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] }, description: "Over the inputs the action's definition resolves from the object" },
              data: { description: 'JsWorkflows: the data start receives' },
              headers: { type: 'object', additionalProperties: { type: 'string' }, description: 'JsWorkflows: the headers start receives' },
            },
          }),
        },
        responses: {
          '200': { description: 'The action finished (succeeded or failed)', ...json(ref('ActionTestResult')) },
          '202': { description: 'Still running after the wait: follow links.execution' },
          ...errors,
        },
      },
    },
  };
}

/** The schemas of those operations. */
export function workflowOpsSchemas(): Record<string, unknown> {
  return {
    ...retrySchemas(),
    ...actionTestSchemas(),
    ...scheduleSchemas(),
    WorkflowState: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        status: { enum: ['enabled', 'disabled', 'archived'] },
        statusChangedAt: { type: ['string', 'null'], format: 'date-time' },
        headVersion: { type: 'integer' },
      },
    },
    WorkflowVersionSummary: {
      type: 'object',
      properties: {
        version: { type: 'integer' },
        name: { type: 'string' },
        objectType: { type: 'string' },
        createdAt: { type: 'string', format: 'date-time' },
        rolledBackFrom: { type: ['integer', 'null'] },
        actions: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, runtime: { type: 'string' }, codeBytes: { type: 'integer' } } } },
      },
    },
    WorkflowDiff: {
      type: 'object',
      properties: {
        workflowId: { type: 'string' },
        from: { type: 'integer' },
        to: { type: 'integer' },
        identical: { type: 'boolean' },
        changes: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, from: {}, to: {} } } },
        actions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              actionId: { type: 'string' },
              change: { enum: ['added', 'removed', 'changed'] },
              fromIndex: { type: ['integer', 'null'] },
              toIndex: { type: ['integer', 'null'] },
              fields: { type: 'array', items: { type: 'object' } },
              codeDiff: { type: 'string', description: "Unified diff of the action's code ('' when unchanged)" },
            },
          },
        },
      },
    },
  };
}

/** A bulk retry job, and a bulk enrollment. */
function retrySchemas(): Record<string, unknown> {
  return {
    EnrollmentBatch: {
      type: 'object',
      properties: {
        jobId: { type: 'string' },
        workflowId: { type: 'string' },
        status: { enum: ['running', 'done'] },
        total: { type: 'integer', description: 'Rows in the body' },
        accepted: { type: 'integer', description: 'Rows that passed the checks' },
        processed: { type: 'integer' },
        enrolled: { type: 'integer' },
        failed: { type: 'integer', description: 'Rows refused (bad rows, and rows the enrollment refused)' },
        errors: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' } } }, description: 'The first 1,000, by line' },
        errorsTruncated: { type: 'boolean' },
      },
    },
    RetryJob: {
      type: 'object',
      properties: {
        jobId: { type: 'string' },
        workflowId: { type: 'string' },
        total: { type: 'integer', description: 'Enrollments the job retries' },
        matched: { type: 'integer', description: 'Matches before the cap' },
        retried: { type: 'integer' },
        refused: { type: 'integer', description: 'No longer failed when the job reached them' },
        completed: { type: 'integer' },
        failed: { type: 'integer', description: 'Retried and failed again' },
        running: { type: 'integer' },
        items: {
          type: 'array',
          items: { type: 'object', properties: { enrollmentId: { type: 'string' }, status: { enum: ['pending', 'running', 'completed', 'failed', 'refused'] }, message: { type: 'string' } } },
        },
      },
    },
  };
}

/** A test's answer, and a dry run's ledger (on a test and on an execution). */
function actionTestSchemas(): Record<string, unknown> {
  return {
    ActionTestResult: {
      type: 'object',
      properties: {
        executionId: { type: 'string' },
        testId: { type: 'string' },
        workflowVersion: { type: 'integer' },
        actionId: { type: 'string' },
        status: { enum: ['succeeded', 'failed'] },
        outputFields: { type: 'object' },
        returnValue: { description: 'JsWorkflows: what start returned' },
        logs: { type: 'array', items: { type: 'object', properties: { level: { type: 'string' }, message: { type: 'string' }, at: { type: ['string', 'null'], format: 'date-time' } } } },
        error: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
        durationMs: { type: 'integer' },
        draft: { type: 'boolean', description: 'The draft sent in `action` ran' },
        object: { type: 'object', description: 'The object it ran for; source: "request", or "hubspot:<connection>" when read from HubSpot' },
        dryRun: { type: 'boolean' },
        dryRunLedger: ref('DryRunLedger'),
      },
    },
    DryRunLedger: {
      type: ['object', 'null'],
      description: 'The writes a dry run held back, in order (at most 100; dropped counts the others); null when the execution was ended by the platform (timeout, memory)',
      properties: {
        writes: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              method: { type: 'string' },
              url: { type: 'string', description: 'As the code addressed it; credential query parameters redacted' },
              headers: {
                type: 'array',
                items: { type: 'array', items: { type: 'string' } },
                description: '[name, value] pairs; credential headers (auth, token, key, secret, cookie, signature, …) are [REDACTED]',
              },
              body: { type: 'string', description: "UTF-8 text (or base64: and the bytes), at most 4,096 characters; the action's secret values redacted" },
              bodyBytes: { type: 'integer' },
              status: { type: 'integer', description: 'The synthetic status it was answered with' },
            },
          },
        },
        dropped: { type: 'integer' },
      },
    },
  };
}

/** A workflow's schedule trigger, and its schedule as the enrollment service fires it. */
function scheduleSchemas(): Record<string, unknown> {
  return {
    ScheduleTrigger: {
      type: 'object',
      required: ['type'],
      additionalProperties: false,
      description:
        'Enrolls the workflow on a clock: `cron` (5 fields, or 6 with seconds first; day-of-month and weekday combine with OR) in `timezone`, or `every` (ticks at whole multiples of the interval since the UNIX epoch). Each tick enrolls once, with the idempotency key `schedule:<workflowId>:<tickISO>`; a disabled workflow does not fire. 400 names the field (`trigger.cron`, `trigger.timezone`, `trigger.every`)',
      properties: {
        type: { enum: ['schedule'] },
        cron: { type: 'string', example: '0 9 * * MON-FRI' },
        timezone: { type: 'string', default: 'UTC', example: 'Europe/Paris', description: 'IANA time zone of `cron`' },
        every: { type: 'string', example: '15 min', description: 'A duration ("30 sec", "15 min", "2 hr", "1 day"), at least CODESTEP_SCHEDULE_MIN_INTERVAL_MS (1 minute)' },
        missed: {
          enum: ['runOnce', 'skip'],
          default: 'runOnce',
          description: 'Ticks missed while the platform was down (found later than CODESTEP_SCHEDULE_GRACE_MS, 1 minute): runOnce runs them once, as the latest; skip skips them',
        },
      },
    },
    WorkflowSchedule: {
      type: 'object',
      properties: {
        workflowId: { type: 'string' },
        trigger: { oneOf: [ref('ScheduleTrigger'), { type: 'null' }] },
        status: { enum: ['enabled', 'disabled', 'archived'] },
        armed: { type: 'boolean', description: 'True when it fires: a trigger, and the workflow enabled' },
        nextFireTimes: { type: 'array', maxItems: 5, items: { type: 'string', format: 'date-time' }, description: 'The next 5 ticks (a tick due now first); empty when not armed' },
        lastTick: {
          type: ['object', 'null'],
          properties: {
            tickAt: { type: 'string', format: 'date-time' },
            outcome: { enum: ['fired', 'skipped'] },
            enrollmentId: { type: ['string', 'null'] },
            missed: { type: 'integer', description: 'Ticks missed while the platform was down, collapsed into this one' },
          },
        },
      },
    },
  };
}

/** `POST /v1/workflows/{id}/enrollments?dryRun=`. */
export const DRY_RUN_QUERY_PARAM = {
  name: 'dryRun',
  in: 'query',
  schema: { type: 'string', enum: ['true', 'false'] },
  description: "true: every action runs as a dry run (writes held back and listed in each execution's dryRunLedger)",
};

/** A workflow's `objectType`, as saved and checked. */
export const OBJECT_TYPE_SCHEMA = {
  type: 'string',
  default: 'CONTACT',
  description:
    'A CRM object type: contacts, companies, deals, tickets, products, line_items, quotes, calls, emails, meetings, notes, tasks, communications, … (or CONTACT, COMPANY, …, or 0-1, 0-2, …: saved as CONTACT, COMPANY, …), a custom object (2-123456, p_cars), WEBHOOK for a workflow its webhook starts, or SCHEDULE for one only its schedule starts. Enrollments of another type are refused (400)',
};

/** The warnings of a save. */
export const SAVE_WARNINGS_SCHEMA = {
  type: 'array',
  description: 'Only in the answer to a save, when there are any: selected secrets and connections that do not exist (the action fails at run until they do)',
  items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
};
