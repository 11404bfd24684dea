/**
 * The operator's HubSpot app, as the gateway's HubSpot receivers and the callback completer use
 * it. Parsed from configuration by `@codestep/platform` (HUBSPOT_APP_ID, HUBSPOT_CLIENT_SECRET,
 * CODESTEP_PUBLIC_URL, …); absent when the operator has not set the app up.
 */
export interface HubSpotAppSettings {
  /** The app's id in HubSpot (the definitions API is per app). */
  appId: number;
  /** Signs HubSpot's requests to the app (and the OAuth code exchange). */
  clientSecret: string;
  /** The public base URL HubSpot calls (`<publicUrl>/integrations/hubspot/actions`): part of every signature. */
  publicUrl: string;
  /** HubSpot's API. @default 'https://api.hubapi.com' */
  apiBaseUrl: string;
  /** How long an action request waits for its enrollment before answering BLOCK, ms. @default 3000 */
  answerWithinMs: number;
  /** How long HubSpot keeps a BLOCKed execution waiting for its callback (ISO 8601 duration). @default 'P1D' */
  blockExpiration: string;
}
