export type { DocumentStore, IndexSpec, Query, RangeBound, Scalar, StoredDoc, VersionedWrite } from './store.port.ts';
export type { ProjectedRecord, Projection } from './projection.port.ts';
export { storeContract } from './store.contract.ts';
export { stampTenant, tenantKey, tenantScoped, type TenantStore } from './tenant-scoped.store.ts';
