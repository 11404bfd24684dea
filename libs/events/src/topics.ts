/** One topic per aggregate type; the record key is the aggregate id. */
export const Topics = {
  workflows: 'codestep.workflows.v1',
  enrollments: 'codestep.enrollments.v1',
  actions: 'codestep.actions.v1',
  /**
   * The retry lane: a copy of each retry's ActionRequested (the one in `actions`, with the header
   * {@link RETRY_LANE_HEADER}, is for every other consumer). Executors run retries from here with a
   * consumer group of its own, so a retry never waits behind the backlog of first attempts.
   */
  actionRetries: 'codestep.actions.retries.v1',
  /** Users' console lines (ActionLogged). The topic keeps its published name. */
  consoleLines: 'codestep.logs.v1',
  connections: 'codestep.connections.v1',
  /** Tenants, their API keys (hashes only) and their limit settings, keyed by tenant id. */
  tenants: 'codestep.tenants.v1',
  /** The HubSpot app's own state: callbacks completed (keyed by HubSpot's callback id), workflows' CRM triggers (keyed by workflow id). */
  hubspot: 'codestep.hubspot.v1',
} as const;
export type Topic = (typeof Topics)[keyof typeof Topics];
export const ALL_TOPICS: Topic[] = Object.values(Topics);

/**
 * Header of a retry's ActionRequested in the actions topic whose copy is in the retry lane
 * (`Topics.actionRetries`): executors run the lane's copy and skip this one. Its value: `retries`.
 */
export const RETRY_LANE_HEADER = 'codestep-lane';
