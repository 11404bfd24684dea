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

/**
 * An ISO 8601 duration (`P1D`, `PT12H`, `P2DT30M`, `P1W`) in ms; undefined when it is not one
 * (years and months are refused: their length varies).
 */
export function isoDurationMs(duration: string): number | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(duration);
  if (!m || duration === 'P' || duration.endsWith('T')) return undefined;
  const [, w = '0', d = '0', h = '0', min = '0', sec = '0'] = m;
  return ((Number(w) * 7 + Number(d)) * 24 * 3600 + Number(h) * 3600 + Number(min) * 60 + Number(sec)) * 1000;
}
