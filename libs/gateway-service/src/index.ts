export { apiRoutes, enrollmentView, executionView, stateView, workflowView, type ApiClients } from './api.routes.ts';
export { versionSummary, workflowLifecycleRoutes } from './workflow-lifecycle.routes.ts';
export { startGateway, type Gateway, type GatewayOptions } from './gateway.ts';
export { openApiDocument } from './openapi.ts';
export { createRouter, statusFor, type Route, type RouteRequest, type RouteResponse, type RouterOptions } from './router.ts';
export { apiKeyRoutes, apiKeyView, parseKeyName, MAX_KEY_NAME } from './api-keys.routes.ts';
export { PAGE_LIMIT, decodeCursor, encodeCursor, pageOf, type Page } from './paging.ts';
export { createTenants, type ApiKeyInfo, type Tenants, type TenantsDeps, type TenantsOptions } from './tenants.ts';
export { DEFAULT_KEY_NAME, TENANT_COLLECTIONS, applyTenantEvents, legacyKeyId, tenantsProjection, type KeyDoc, type TenantDoc } from './tenants.projection.ts';
export { tenantLimitsOf, tenantLimitsRoutes, type TenantLimits, type TenantLimitsOf } from './tenant-limits.routes.ts';
export { checkSecretSelections, connectionRoutes, connectionView } from './connections.routes.ts';
export { ensureHookCollection, hookRoutes, type HookOptions } from './hooks.routes.ts';
export { resumeRoutes } from './resume.routes.ts';
export { hubspotActionRoutes, WORKFLOW_INPUT, type HubSpotRouteDeps } from './hubspot/hubspot-actions.routes.ts';
export { startPortalOwners, type PortalOwner, type PortalOwners, type PortalOwnersDeps } from './hubspot/portal-owners.ts';
export { createCrmPrefetcher, createCrmPropertiesFetcher, missingProperties, type CrmPrefetcher, type CrmPropertiesFetcher } from './hubspot/crm-properties.ts';
export { hubspotWebhookRoutes, MAX_WEBHOOK_BATCH } from './hubspot/hubspot-webhooks.routes.ts';
export { followTriggers, hubspotTriggerRoutes, hubspotTriggersProjection } from './hubspot/hubspot-triggers.ts';
export { followTriggerEnrollments, hubspotTriggerEnrollmentsProjection } from './hubspot/hubspot-trigger-enrollments.projection.ts';
export { CALLBACKS, retryDueCallbacks, startCallbackCompleter, type CallbackDoc } from './hubspot/hubspot-callbacks.ts';
export { verifyHubSpotSignature, MAX_SIGNATURE_AGE_MS } from './hubspot/hubspot-signature.ts';
export { isoDurationMs, type HubSpotAppSettings } from './hubspot/hubspot.settings.ts';
export { hubspotActionDefinition, publishHubSpotAction, type ActionDefinitionInput, type ActionFieldSpec } from './hubspot/hubspot-action.definition.ts';
export { actionTestRoutes, parseTestInput, type ActionTestOptions } from './action-test.routes.ts';
export { createHubSpotBatchReader, createHubSpotObjectReader, type HubSpotBatchReader, type HubSpotObjectReader, type HubSpotObjectReaderDeps } from './hubspot/hubspot-object.reader.ts';
export { MAX_RETRY_JOB, RETRY_VERSIONS, retryRoutes } from './retry.routes.ts';
export { clientConfigRoutes, traceTemplateProblem, type ClientConfig } from './client-config.routes.ts';
export { MAX_BATCH_BYTES, MAX_BATCH_ROWS, enrollmentBatches, parseBatch, type EnrollmentBatches, type EnrollmentBatchOptions } from './enrollment-batch.ts';
export {
  FALLBACK_READ_MS,
  createHistoryChangesHub,
  historyChangesOf,
  tailHistoryChanges,
  type HistoryChange,
  type HistoryChanges,
  type HistoryChangesHub,
  type HistoryWatch,
} from './history-changes.ts';
export { PUBLIC_API_PROTO, startPublicGrpc, type PublicGrpcOptions, type PublicGrpcServer } from './grpc/public-api.server.ts';
export { publicServiceError, statusDetailsOf } from './grpc/public-api.status.ts';
