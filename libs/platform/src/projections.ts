/**
 * Every projection the services own, in one list: what `codestep replay` rebuilds and what
 * `--verify` compares. A service that adds queryable state adds its projection here.
 */
import { connectionsProjection } from '@codestep/credentials-service';
import {
  enrollRequestsProjection,
  enrollmentStatesProjection,
  retryTimersProjection,
  schedulesProjection,
  tenantLimitsProjection,
  workflowRunsProjection,
  workflowWaitsProjection,
  workflowsProjection,
} from '@codestep/enrollment-service';
import { hubspotTriggerEnrollmentsProjection, hubspotTriggersProjection, tenantsProjection } from '@codestep/gateway-service';
import { historyProjection } from '@codestep/history-service';
import type { Projection } from '@codestep/store';

export const PROJECTIONS: readonly Projection[] = [
  historyProjection,
  tenantsProjection,
  connectionsProjection,
  workflowsProjection,
  schedulesProjection,
  enrollRequestsProjection,
  retryTimersProjection,
  hubspotTriggersProjection,
  hubspotTriggerEnrollmentsProjection,
  workflowRunsProjection,
  enrollmentStatesProjection,
  workflowWaitsProjection,
  tenantLimitsProjection,
];
