/**
 * A workflow's `crmProperties`, read from HubSpot before its first action. Runs in the gateway,
 * on every path that enrolls (the app's action URL, the CRM webhook triggers, `POST
 * /v1/workflows/{id}/enrollments`), before the enroll request: the gateway already holds the
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
import type { HubSpotObjectReader } from './hubspot-object.reader.ts';

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
}) => Promise<{ object: CrmObjectInput; crmRead?: CrmPropertiesRead }>;

/** The properties of `wf` that `object` lacks. */
export function missingProperties(wf: Pick<WorkflowDefinition, 'crmProperties'>, object: CrmObjectInput): string[] {
  return (wf.crmProperties?.names ?? []).filter((name) => object.properties[name] === undefined);
}

export function createCrmPropertiesFetcher(deps: { clients: Pick<ApiClients, 'workflows' | 'credentials'>; readObject: HubSpotObjectReader; clock: () => number }): CrmPropertiesFetcher {
  return async ({ tenantId, workflowId, object, connection, workflow }) => {
    const wf = workflow ?? (await deps.clients.workflows.getWorkflow({ tenantId, workflowId, version: 0 }));
    const names = missingProperties(wf, object);
    if (!names.length) return { object };
    if (!connection) {
      // An API enrollment: read only in an account that has a HubSpot connection.
      const { connections } = deps.clients.credentials ? await deps.clients.credentials.listConnections({ tenantId }) : { connections: [] };
      if (!connections.some((c) => c.provider === 'hubspot')) return { object };
    }
    const readAt = deps.clock();
    try {
      const read = await deps.readObject({
        tenantId,
        objectType: object.objectType || wf.objectType,
        objectId: object.objectId,
        properties: names,
        connection,
        purpose: `crm-properties:${workflowId}`,
      });
      const values = Object.fromEntries(names.filter((n) => read.properties[n] !== undefined).map((n) => [n, read.properties[n]!]));
      return { object: { ...object, properties: { ...values, ...object.properties } }, crmRead: { connection: read.connection, names, values, readAt, error: '' } };
    } catch (error) {
      if (!(error instanceof CodestepError)) throw error;
      return { object, crmRead: { connection: connection ?? '', names, values: {}, readAt, error: error.message } };
    }
  };
}
