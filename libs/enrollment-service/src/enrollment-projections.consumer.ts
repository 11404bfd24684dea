/**
 * Keeps the enrollment service's projections of the workflows and enrollments topics current
 * (workflow definitions and their schedules, enroll requests), and of the tenants topic (tenants' limits). The command path applies its own events as well, so
 * callers read their writes; this consumer covers everything else (events appended by another
 * replica, or appended before a crash kept them from being applied).
 */
import type { Logger } from '@codestep/core';
import type { EventLog, Subscription } from '@codestep/event-log';
import type { DocumentStore } from '@codestep/store';
import { enrollRequestsProjection } from './enroll-requests.projection.ts';
import { enrollmentStatesProjection } from './enrollment-states.projection.ts';
import { schedulesProjection } from './schedules.projection.ts';
import { tenantLimitsProjection } from './tenant-limits.projection.ts';
import { workflowRunEndsProjection } from './workflow-runs.projection.ts';
import { workflowsProjection } from './workflows.projection.ts';

const PROJECTIONS = [workflowsProjection, schedulesProjection, enrollRequestsProjection, workflowRunEndsProjection, enrollmentStatesProjection, tenantLimitsProjection];

/** The topics this consumer reads. */
export const PROJECTED_TOPICS = [...new Set(PROJECTIONS.flatMap((p) => p.topics))];

export function consumeEnrollmentProjections(store: DocumentStore, eventLog: EventLog, logger: Logger): Promise<Subscription> {
  return eventLog.consume({
    group: 'codestep-enrollment-projections',
    topics: PROJECTED_TOPICS,
    batchSize: 500,
    handle: async (batch) => {
      for (const projection of PROJECTIONS) {
        const mine = batch.filter((r) => projection.topics.includes(r.topic));
        if (mine.length) await projection.apply(store, mine);
      }
      return [];
    },
    onError: (error) => logger.error({ error }, 'enrollment projections batch failed; will retry'),
  });
}
