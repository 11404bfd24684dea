/**
 * The one rule for action secrets, imported by every side that touches them: the broker when a
 * secret is saved, the gateway when a workflow selects secrets, the workflow definition, and the
 * sandbox when an action runs. HubSpot's limit is on the total: an action may use at most 1,000
 * characters of secret values, so one value longer than that could never be used at all.
 */

import { unsafeTextProblem } from './display-text.policy.ts';

/** What secret names and sizes may be. */
export const SECRETS_POLICY = {
  /** Secrets become `process.env.NAME`: an identifier (letters, digits, `_`, not starting with a digit). */
  namePattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
  /** Longest name, characters. */
  maxNameChars: 128,
  /** HubSpot's cap on the secrets of one action: the sum of the values' lengths, characters. */
  maxTotalCharsPerAction: 1000,
  /** Longest value, characters: a longer one would exceed the per-action total on its own. */
  maxValueChars: 1000,
} as const;

/** True when `name` is a valid secret name. */
export function isValidSecretName(name: unknown): boolean {
  return typeof name === 'string' && name.length <= SECRETS_POLICY.maxNameChars && SECRETS_POLICY.namePattern.test(name);
}

/**
 * What is wrong with a secret name, as a sentence naming the fix; undefined when it is valid. A
 * name with characters unsafe to show ({@link unsafeTextProblem}) is described, not repeated.
 */
export function secretNameProblem(name: string): string | undefined {
  if (isValidSecretName(name)) return undefined;
  const unsafe = unsafeTextProblem(name);
  if (unsafe) return `secret name ${unsafe}; a secret name is letters, digits and underscores (it becomes process.env.NAME)`;
  return `secret name ${JSON.stringify(name.slice(0, 140))} is not valid: use letters, digits and underscores, starting with a letter or underscore (it becomes process.env.NAME), at most ${SECRETS_POLICY.maxNameChars} characters`;
}

/** What is wrong with a secret value, as a sentence naming the fix; undefined when it can be used. */
export function secretValueProblem(name: string, value: string): string | undefined {
  if (value.length <= SECRETS_POLICY.maxValueChars) return undefined;
  return `the value of secret "${name}" is ${value.length} characters, but an action can use at most ${SECRETS_POLICY.maxTotalCharsPerAction} characters of secrets in total, so it could never be used: store a value of at most ${SECRETS_POLICY.maxValueChars} characters`;
}

/**
 * What is wrong with the secrets one action selects, given the stored values' lengths (names
 * not stored yet count 0: they are reported missing when the action runs); undefined when they fit.
 */
export function secretSelectionProblem(actionId: string, selected: readonly string[], valueChars: ReadonlyMap<string, number>): string | undefined {
  const total = [...new Set(selected)].reduce((sum, name) => sum + (valueChars.get(name) ?? 0), 0);
  if (total <= SECRETS_POLICY.maxTotalCharsPerAction) return undefined;
  return `the secrets selected for action "${actionId}" total ${total} characters; an action can use at most ${SECRETS_POLICY.maxTotalCharsPerAction} characters of secrets in total, so it could never run: select fewer or shorter secrets for this action`;
}

/**
 * The pseudo-secret an action selects to get, as `process.env.HUBSPOT_ACCESS_TOKEN`, the access
 * token of the HubSpot account that enrolled the object (the codestep HubSpot app's workflow action
 * or webhook), through the tenant's connection installed in that portal and refreshed by the
 * broker. For enrollments that did not come from HubSpot it is an ordinary secret of that name.
 */
export const HUBSPOT_TOKEN_SECRET = 'HUBSPOT_ACCESS_TOKEN';
