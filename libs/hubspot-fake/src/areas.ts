/**
 * The API areas beyond CRM objects and OAuth, each in its own `*.routes.ts`: their state on the
 * fake's context, their routers (each answers only its own paths, `undefined` otherwise) and
 * what `reset()` clears.
 */
import { AssociationStore } from './associations.store.ts';
import { AutomationStore, handleAutomation } from './automation.routes.ts';
import { handleAssociations } from './associations.routes.ts';
import { CommunicationPreferences, handleCommunicationPreferences } from './communication-preferences.routes.ts';
import { handleContactsV1 } from './contacts-v1.routes.ts';
import { handleCrmBatch } from './crm-batch.routes.ts';
import { SchemaRegistry } from './custom-objects.ts';
import { handleEngagementsV1 } from './engagements-v1.routes.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import type { FakeResponse } from './hubspot-errors.ts';
import { HubDbStore, handleHubDb } from './hubdb.routes.ts';
import { OwnerStore, handleOwners } from './owners.routes.ts';
import { PipelineStore, handlePipelines } from './pipelines.routes.ts';
import { handleSchemas } from './schemas.routes.ts';

export type AreaRoute = (ctx: FakeContext, req: FakeRequest) => FakeResponse | undefined;

/** Tried in order before the CRM objects router; the first that answers wins. */
export const AREA_ROUTES: readonly AreaRoute[] = [
  handleCrmBatch,
  handleAssociations,
  handleSchemas,
  handleOwners,
  handlePipelines,
  handleHubDb,
  handleEngagementsV1,
  handleContactsV1,
  handleCommunicationPreferences,
  handleAutomation,
];

export function createAreaState() {
  return {
    associations: new AssociationStore(),
    schemas: new SchemaRegistry(),
    owners: new OwnerStore(),
    pipelines: new PipelineStore(),
    hubdb: new HubDbStore(),
    subscriptions: new CommunicationPreferences(),
    automation: new AutomationStore(),
  };
}

export function clearAreaState(ctx: FakeContext): void {
  ctx.associations.clear();
  ctx.schemas.clear();
  ctx.owners.clear();
  ctx.pipelines.clear();
  ctx.hubdb.clear();
  ctx.subscriptions.clear();
  ctx.automation.clear();
}

/** The first area router that answers the request, if any. */
export function routeAreas(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  for (const route of AREA_ROUTES) {
    const response = route(ctx, req);
    if (response) return response;
  }
  return undefined;
}
