/**
 * The one rule for the names and number of an action's output fields, shared by the workflow
 * definition (declared outputs) and the sandbox (what an action returns). HubSpot documents no
 * cap on either; its outputs become workflow properties, whose internal names are short
 * identifiers, so codestep takes 100 characters (the declared-name rule it always had) and 250
 * fields, far above what a workflow step uses and far below what would flood the history.
 */
export const OUTPUT_FIELDS_POLICY = {
  /** Longest output field name, characters. */
  maxNameChars: 100,
  /** Most output fields one action declares, or keeps when it declares none (the CLI). */
  maxFields: 250,
} as const;
