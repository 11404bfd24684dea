/**
 * Action secrets, per tenant, sealed at rest and bound to their tenant and name. Names and
 * sizes follow `SECRETS_POLICY` (`@codestep/core`): a value longer than an action may use in
 * total is refused when saved, since it could never run.
 *
 * Each call works through `tenantScoped(store, tenantId)`, keyed by name: another tenant's
 * secret is simply absent. The stored ids (`<tenantId>/<name>`) are the ones the vault always
 * wrote, so existing data directories keep working.
 */
import { isValidSecretName, type Clock, type Logger } from '@codestep/core';
import { tenantScoped, type DocumentStore } from '@codestep/store';
import { aad, COLLECTIONS, type SecretDoc } from './connection.model.ts';
import type { SecretSizeView, SecretView } from './credentials.types.ts';
import { checkSecretName, checkSecretValue, checkTenantId } from './names.policy.ts';
import type { SecretBox } from './secret-box.ts';

export interface SecretsVault {
  ensure(): Promise<void>;
  /** Creates or replaces a secret. @throws ValidationError on a bad name or a value too long to ever be used. */
  put(input: { tenantId: string; name: string; value: string }): Promise<SecretView>;
  /** Names, update times and value lengths (never values), by name. */
  list(tenantId: string): Promise<SecretSizeView[]>;
  delete(input: { tenantId: string; name: string }): Promise<boolean>;
  /**
   * The values of the secrets an action declares, from its own tenant only.
   * @throws CodestepError `DECRYPTION_FAILED` when a stored value cannot be opened (never silently missing).
   */
  resolve(input: { tenantId: string; names: readonly string[]; workflowId?: string; executionId?: string }): Promise<{ values: Record<string, string>; missing: string[] }>;
}

export function createSecretsVault(deps: { store: DocumentStore; box: SecretBox; clock: Clock; log: Logger }): SecretsVault {
  const { store, box, clock, log } = deps;
  return {
    async ensure() {
      await store.ensureCollection(COLLECTIONS.secrets, [{ fields: ['tenantId'] }]);
    },
    async put(input) {
      const tenantId = checkTenantId(input.tenantId);
      const name = checkSecretName(input.name);
      const value = checkSecretValue(name, input.value);
      const updatedAt = clock();
      const doc: SecretDoc = { tenantId, name, sealed: box.seal(value, aad.secret(tenantId, name)), updatedAt, valueChars: value.length };
      await tenantScoped(store, tenantId).put(COLLECTIONS.secrets, name, doc);
      log.info({ tenantId, name }, 'secret stored');
      return { name, updatedAt };
    },
    async list(tenantIdInput) {
      const tenantId = checkTenantId(tenantIdInput);
      const docs = await tenantScoped(store, tenantId).find<SecretDoc>(COLLECTIONS.secrets, { orderBy: { field: 'name', direction: 'asc' } });
      return docs.map(({ doc }) => ({
        name: doc.name,
        updatedAt: doc.updatedAt,
        // Secrets stored before the length was kept are measured once opened.
        valueChars: doc.valueChars ?? box.open(doc.sealed, aad.secret(tenantId, doc.name)).length,
      }));
    },
    async delete(input) {
      const tenantId = checkTenantId(input.tenantId);
      const name = checkSecretName(input.name);
      const deleted = await tenantScoped(store, tenantId).delete(COLLECTIONS.secrets, name);
      if (deleted) log.info({ tenantId, name }, 'secret deleted');
      return deleted;
    },
    async resolve(input) {
      const tenantId = checkTenantId(input.tenantId);
      const names = [...new Set(input.names)];
      const valid = names.filter((n) => isValidSecretName(n));
      const found = await tenantScoped(store, tenantId).getMany<SecretDoc>(COLLECTIONS.secrets, valid);
      const values: Record<string, string> = {};
      const missing: string[] = [];
      for (const name of names) {
        const stored = found.get(name);
        if (!stored || stored.doc.name !== name) {
          missing.push(name);
          continue;
        }
        values[name] = box.open(stored.doc.sealed, aad.secret(tenantId, name));
      }
      log.debug({ tenantId, workflowId: input.workflowId, executionId: input.executionId, resolved: Object.keys(values), missing }, 'secrets resolved');
      return { values, missing };
    },
  };
}
