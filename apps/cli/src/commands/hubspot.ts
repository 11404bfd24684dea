/**
 * `codestep hubspot publish-action [--input name:type]… [--output name:type]… [--object-type T]…
 *   [--print] [--json]`
 *
 * Creates or updates the "Run codestep workflow" custom workflow action of the operator's HubSpot
 * app through the automation v4 definitions API (HUBSPOT_APP_ID, HUBSPOT_DEVELOPER_API_KEY,
 * HUBSPOT_API_BASE_URL, CODESTEP_PUBLIC_URL from the same configuration as the platform).
 * `--print` shows the definition without sending it. Exit 0 published, 1 HubSpot refused, 2 usage.
 */
import { isCodestepError } from '@codestep/core';
import { hubspotActionDefinition, publishHubSpotAction } from '@codestep/gateway-service';
import { loadPlatformConfig } from '@codestep/platform';
import { parseCommandLine } from './command-line.ts';
import type { RunCommandIo } from './run.ts';

export const HUBSPOT_USAGE = `Usage: codestep hubspot publish-action [options]

Creates or updates the HubSpot app's "Run codestep workflow" workflow action (automation v4).
Configuration: HUBSPOT_APP_ID, HUBSPOT_DEVELOPER_API_KEY, CODESTEP_PUBLIC_URL, HUBSPOT_API_BASE_URL.

Options:
  --input <name:type>      A record property (or fixed value) passed to the workflow (repeatable;
                           default email, firstname, lastname as strings)
  --output <name:type>     An output HubSpot offers to later actions (repeatable): string, number,
                           boolean, datetime, date, enum, phone_number
  --object-type <TYPE>     Records the action runs for (repeatable; default CONTACT)
  --print                  Print the definition, send nothing
  --json                   Print what HubSpot answered as JSON
`;

function fields(values: string[] | undefined, flag: string): Array<{ name: string; type: string }> | undefined {
  if (!values?.length) return undefined;
  return values.map((v) => {
    const [name = '', type = 'string'] = v.split(':');
    if (!/^[a-z][a-z0-9_]{0,99}$/.test(name)) throw new Error(`${flag} ${v}: the name must be lowercase letters, digits and _`);
    return { name, type };
  });
}

export async function hubspotCommand(argv: string[], env: Record<string, string | undefined>, io: RunCommandIo): Promise<number> {
  const parsed = parseCommandLine(
    'hubspot',
    HUBSPOT_USAGE,
    argv,
    {
      input: { type: 'string', multiple: true },
      output: { type: 'string', multiple: true },
      'object-type': { type: 'string', multiple: true },
      print: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    io,
  );
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || positionals[0] !== 'publish-action') {
    io.stderr.write(`codestep hubspot: expected "publish-action"\n${HUBSPOT_USAGE}`);
    return 2;
  }
  try {
    const config = loadPlatformConfig(env);
    const inputs = fields(values.input, '--input');
    const outputs = fields(values.output, '--output');
    const definition = hubspotActionDefinition({
      publicUrl: config.publicUrl ?? `http://${config.httpHost}:${config.httpPort}`,
      ...(inputs ? { inputs } : {}),
      ...(outputs ? { outputs } : {}),
      ...(values['object-type']?.length ? { objectTypes: values['object-type'].map((t) => t.toUpperCase()) } : {}),
    });
    if (values.print) {
      io.stdout.write(JSON.stringify(definition, null, 2) + '\n');
      return 0;
    }
    if (!config.hubspotAppId || !config.hubspotDeveloperApiKey) {
      io.stderr.write('codestep hubspot: set HUBSPOT_APP_ID and HUBSPOT_DEVELOPER_API_KEY (the HubSpot developer account of the app) to publish\n');
      return 2;
    }
    const out = await publishHubSpotAction({ apiBaseUrl: config.hubspotApiBaseUrl, appId: config.hubspotAppId, developerApiKey: config.hubspotDeveloperApiKey, definition });
    if (values.json) io.stdout.write(JSON.stringify(out.definition, null, 2) + '\n');
    else io.stdout.write(`${out.created ? 'Created' : 'Updated'} action definition ${out.definition.id} of app ${config.hubspotAppId}: ${String(definition.actionUrl)}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`codestep hubspot: ${error instanceof Error ? error.message : String(error)}\n`);
    return isCodestepError(error) && error.code === 'INVALID_CONFIG' ? 2 : 1;
  }
}
