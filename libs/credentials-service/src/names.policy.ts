/**
 * What tenant ids, connection handles and secret names may look like. Record ids are built as
 * `<tenant>/<name>`, so none of them may contain a slash. The secret rule itself is
 * `SECRETS_POLICY` in `@codestep/core`, shared with the workflow definition and the sandbox.
 */
import { ValidationError, secretNameProblem, secretValueProblem, unsafeTextProblem } from '@codestep/core';

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const HANDLE = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function checkTenantId(tenantId: string): string {
  if (!TENANT.test(tenantId)) throw new ValidationError('tenant_id is required: letters, digits, dots, underscores and hyphens, at most 64');
  return tenantId;
}

export function isValidHandle(handle: string): boolean {
  return HANDLE.test(handle);
}

/** @throws ValidationError naming the field `handle` when it is not a valid handle; unsafe characters are described, not repeated. */
export function checkHandle(handle: string): string {
  const unsafe = unsafeTextProblem(handle);
  if (unsafe) throw new ValidationError(`connection handle ${unsafe}; use lowercase letters, digits and hyphens only (e.g. my-hubspot)`, { field: 'handle' });
  if (!isValidHandle(handle)) {
    throw new ValidationError(
      `connection handle ${JSON.stringify(handle)} is not valid: use lowercase letters, digits and hyphens only (e.g. my-hubspot), starting with a letter or digit, at most 63 characters`,
      { field: 'handle' },
    );
  }
  return handle;
}

/** @throws ValidationError naming the rule when `name` is not a valid secret name. */
export function checkSecretName(name: string): string {
  const problem = secretNameProblem(name);
  if (problem) throw new ValidationError(problem, { field: 'name' });
  return name;
}

/** @throws ValidationError when the value could never be used (longer than an action's secrets total). */
export function checkSecretValue(name: string, value: string): string {
  const problem = secretValueProblem(name, value);
  if (problem) throw new ValidationError(problem, { field: 'value' });
  return value;
}
