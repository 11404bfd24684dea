export { apiRoutes, enrollmentView, executionView, workflowView, type ApiClients } from './api.routes.ts';
export { startGateway, type Gateway, type GatewayOptions } from './gateway.ts';
export { openApiDocument } from './openapi.ts';
export { createRouter, statusFor, type Route, type RouteRequest, type RouteResponse, type RouterOptions } from './router.ts';
export { createTenants, type Tenants, type TenantsDeps, type TenantsOptions } from './tenants.ts';
export { TENANT_COLLECTIONS, applyTenantEvents, tenantsProjection, type KeyDoc, type TenantDoc } from './tenants.projection.ts';
export { tenantLimitsOf, tenantLimitsRoutes, type TenantLimits, type TenantLimitsOf } from './tenant-limits.routes.ts';
export { checkSecretSelections, connectionRoutes, connectionView } from './connections.routes.ts';
export { ensureHookCollection, hookRoutes, type HookOptions } from './hooks.routes.ts';
