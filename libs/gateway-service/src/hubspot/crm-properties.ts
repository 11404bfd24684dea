/**
 * A workflow's `crmProperties`, read from HubSpot before its first action. Runs in the gateway,
 * on every path that enrolls a CRM object (the app's action URL, the CRM webhook triggers, `POST
 * /v1/workflows/{id}/enrollments` and its bulk form `…/enrollments:batch`), before the enroll
 * request (a JsWorkflows hook call or a schedule tick enrolls no CRM object: nothing to read): the gateway already holds the
 * broker's client that hands out a connection's token (`GetConnectionToken`, audited with the
 * purpose), and what was read goes into the request, hence into EnrollmentStarted (`crm_read`),
 * the enrollment's history. Only the properties the object lacks are read; an account without a
 * HubSpot connection (API enrollments) reads nothing. A read that fails (record gone, token
 * revoked, HubSpot down) does not refuse the enrollment: its error is in `crm_read.error` and the
 * actions run with the object as it came.
 */
import type { CrmPropertiesRead, WorkflowDefinition } from '@codestep/contracts';
import { CodestepError } from '@codestep/core';
import type { ApiClients } from '../api.routes.ts';
import { MAX_BATCH_READ, type HubSpotBatchReader, type HubSpotObjectReader } from './hubspot-object.reader.ts';

/** What one batch read got: the properties asked for, and each record HubSpot has (by id). */
export interface BatchRead {
  connection: string;
  objectType: string;
  names: string[];
  records: Map<string, Record<string, string>>;
}

export interface CrmObjectInput {
  objectType: string;
  objectId: string;
  properties: Record<string, string>;
}

/**
 * The object completed with what HubSpot has of the workflow's `crmProperties` it lacked, and the
 * read's record (undefined: nothing to read). `connection`: the HubSpot connection to read with
 * (the portal's, for HubSpot's enrollments); absent: the account's only active one, if any.
 */
export type CrmPropertiesFetcher = (input: {
  tenantId: string;
  workflowId: string;
  object: CrmObjectInput;
  connection?: string | undefined;
  /** The workflow's head, when the caller has it already. */
  workflow?: WorkflowDefinition | undefined;
  /** Read already with others of its type in one batch ({@link CrmPrefetcher}): used when it covers the object. */
  batch?: BatchRead | undefined;
  /** No request to HubSpot or wait for it past this (UNIX ms): the caller answers HubSpot by then; past it the read fails, recorded in `crmRead.error`. */
  deadline?: number | undefined;
}) => Promise<{ object: CrmObjectInput; crmRead?: CrmPropertiesRead }>;

/** The properties of `wf` that `object` lacks. */
export function missingProperties(wf: Pick<WorkflowDefinition, 'crmProperties'>, object: CrmObjectInput): string[] {
  return (wf.crmProperties?.names ?? []).filter((name) => object.properties[name] === undefined);
}

export function createCrmPropertiesFetcher(deps: { clients: Pick<ApiClients, 'workflows' | 'credentials'>; readObject: HubSpotObjectReader; clock: () => number }): CrmPropertiesFetcher {
  return async ({ tenantId, workflowId, object, connection, workflow, batch, deadline }) => {
    const wf = workflow ?? (await deps.clients.workflows.getWorkflow({ tenantId, workflowId, version: 0 }));
    const names = missingProperties(wf, object);
    if (!names.length) return { object };
    if (!connection) {
      // An API enrollment: read only in an account that has a HubSpot connection.
      const { connections } = deps.clients.credentials ? await deps.clients.credentials.listConnections({ tenantId }) : { connections: [] };
      if (!connections.some((c) => c.provider === 'hubspot')) return { object };
    }
    const readAt = deps.clock();
    const objectType = object.objectType || wf.objectType;
    if (batch && batch.connection === connection && batch.objectType === objectType && names.every((n) => batch.names.includes(n))) {
      const record = batch.records.get(object.objectId);
      if (!record) return { object, crmRead: { connection, names, values: {}, readAt, error: `HubSpot has no ${objectType} record ${object.objectId} (read with connection "${connection}")` } };
      const values = Object.fromEntries(names.filter((n) => record[n] !== undefined).map((n) => [n, record[n]!]));
      return { object: { ...object, properties: { ...values, ...object.properties } }, crmRead: { connection, names, values, readAt, error: '' } };
    }
    try {
      const read = await deps.readObject({
        tenantId,
        objectType,
        objectId: object.objectId,
        properties: names,
        connection,
        purpose: `crm-properties:${workflowId}`,
        deadline,
      });
      const values = Object.fromEntries(names.filter((n) => read.properties[n] !== undefined).map((n) => [n, read.properties[n]!]));
      return { object: { ...object, properties: { ...values, ...object.properties } }, crmRead: { connection: read.connection, names, values, readAt, error: '' } };
    } catch (error) {
      if (!(error instanceof CodestepError)) throw error;
      return { object, crmRead: { connection: connection ?? '', names, values: {}, readAt, error: error.message } };
    }
  };
}

/** One object a batch of enrollments (a webhook delivery) is about to enroll into a workflow. */
export interface PlannedEnrollment {
  tenantId: string;
  connection: string;
  workflowId: string;
  object: CrmObjectInput;
}

/**
 * Reads, ahead of a batch of enrollments, what their workflows' `crmProperties` need: one batch
 * read per tenant, connection and object type (up to {@link MAX_BATCH_READ} records a request)
 * wherever several objects need some. Answers the batch read covering each planned enrollment
 * (by its index); a batch that fails is left out, and those enrollments read one by one.
 */
export type CrmPrefetcher = (planned: readonly PlannedEnrollment[], deadline?: number) => Promise<Map<number, BatchRead>>;

export function createCrmPrefetcher(deps: { clients: Pick<ApiClients, 'workflows'>; readBatch: HubSpotBatchReader }): CrmPrefetcher {
  return async (planned, deadline) => {
    const workflows = new Map<string, Promise<WorkflowDefinition | undefined>>();
    const workflowOf = (tenantId: string, workflowId: string) => {
      const key = JSON.stringify([tenantId, workflowId]);
      if (!workflows.has(key))
        workflows.set(
          key,
          deps.clients.workflows.getWorkflow({ tenantId, workflowId, version: 0 }).catch(() => undefined),
        );
      return workflows.get(key)!;
    };
    const groups = new Map<string, { p: PlannedEnrollment; names: Set<string>; ids: Set<string>; members: number[] }>();
    for (const [i, p] of planned.entries()) {
      const wf = await workflowOf(p.tenantId, p.workflowId);
      const names = wf ? missingProperties(wf, p.object) : [];
      if (!names.length || !p.object.objectType) continue;
      const key = JSON.stringify([p.tenantId, p.connection, p.object.objectType]);
      const g = groups.get(key) ?? { p, names: new Set<string>(), ids: new Set<string>(), members: [] };
      names.forEach((n) => g.names.add(n));
      g.ids.add(p.object.objectId);
      g.members.push(i);
      groups.set(key, g);
    }
    const out = new Map<number, BatchRead>();
    for (const g of groups.values()) {
      if (g.ids.size < 2) continue;
      const ids = [...g.ids];
      const records = new Map<string, Record<string, string>>();
      try {
        for (let i = 0; i < ids.length; i += MAX_BATCH_READ) {
          const got = await deps.readBatch({
            tenantId: g.p.tenantId,
            objectType: g.p.object.objectType,
            objectIds: ids.slice(i, i + MAX_BATCH_READ),
            properties: [...g.names],
            connection: g.p.connection,
            purpose: 'crm-properties:batch',
            deadline,
          });
          for (const [id, props] of got) records.set(id, props);
        }
      } catch (error) {
        if (error instanceof CodestepError) continue;
        throw error;
      }
      const read: BatchRead = { connection: g.p.connection, objectType: g.p.object.objectType, names: [...g.names], records };
      for (const m of g.members) out.set(m, read);
    }
    return out;
  };
}

/**
 * The HubSpot connection an enrollment that names none (the API's, a bulk one) reads with: the
 * account's only active HubSpot connection; `''` when it has several (each read then fails
 * saying to name one, recorded in its `crm_read`); undefined when it has none (nothing is read).
 */
export async function defaultHubSpotConnection(clients: Pick<ApiClients, 'credentials'>, tenantId: string): Promise<string | undefined> {
  if (!clients.credentials) return undefined;
  const hubspot = (await clients.credentials.listConnections({ tenantId })).connections.filter((c) => c.provider === 'hubspot');
  if (!hubspot.length) return undefined;
  const active = hubspot.filter((c) => c.status === 'active');
  return active.length === 1 ? active[0]!.handle : '';
}
