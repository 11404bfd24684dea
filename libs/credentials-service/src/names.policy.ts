/**
 * What tenant ids, connection handles and secret names may look like. Record ids are built as
 * `<tenant>/<name>`, so none of them may contain a slash.
 */
import { ValidationError } from '@codestep/core';

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HANDLE = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Secrets become `process.env.NAME` in HubSpot actions: an identifier.
const SECRET = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Maximum size of one secret value, in bytes of UTF-8. */
export const MAX_SECRET_BYTES = 64 * 1024;

export function checkTenantId(tenantId: string): string {
  if (!TENANT.test(tenantId)) throw new ValidationError('tenant_id is required: letters, digits, dots, underscores and hyphens, at most 64');
  return tenantId;
}

export function isValidHandle(handle: string): boolean {
  return HANDLE.test(handle);
}

export function checkHandle(handle: string): string {
  if (!isValidHandle(handle)) {
    throw new ValidationError(
      `connection handle ${JSON.stringify(handle)} is not valid: use lowercase letters, digits and hyphens only (e.g. my-hubspot), starting with a letter or digit, at most 63 characters`,
      { field: 'handle' },
    );
  }
  return handle;
}

export function checkSecretName(name: string): string {
  if (!SECRET.test(name)) {
    throw new ValidationError(
      `secret name ${JSON.stringify(name)} is not valid: use letters, digits and underscores, starting with a letter or underscore (it becomes process.env.NAME), at most 128 characters`,
      { field: 'name' },
    );
  }
  return name;
}

export function checkSecretValue(value: string): string {
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) {
    throw new ValidationError(`a secret value is at most ${MAX_SECRET_BYTES} bytes`, { field: 'value' });
  }
  return value;
}
