export { startHubSpotFake, type FailNextOptions, type HubSpotFake, type IssueAccessTokenOptions, type IssuedAccessToken, type RecordedRequest, type SeedOptions } from './hubspot-fake.server.ts';
export { DEFAULT_PORTAL_ID, type HubSpotFakeOptions, type OAuthClientConfig, type OAuthConsent, type PrivateAppTokenConfig } from './hubspot-fake.options.ts';
export type { CrmObjectSnapshot } from './crm.store.ts';
export { OBJECT_TYPES, type CrmObjectType } from './object-types.ts';
export type { SeedDocument, SeededRecord, SeedHandles } from './seed-handles.ts';
export type { OwnerInput } from './owners.routes.ts';
export type { SchemaInput } from './custom-objects.ts';
export type { HubDbTableInput } from './hubdb.routes.ts';
