/**
 * The shape the enrollment service's event projections share: a reducer over decoded envelopes,
 * in log order, wrapped as the {@link Projection} that its projections consumer and
 * `codestep replay` apply to records (a record that is not an event is skipped).
 */
import { fromRecord, type Envelope } from '@codestep/events';
import type { DocumentStore, Projection } from '@codestep/store';

/** What an envelope projection is: a {@link Projection} whose `apply` takes decoded envelopes. */
export interface EnvelopeProjection extends Omit<Projection, 'apply'> {
  /** Applies envelopes in log order (per partition); idempotent. */
  apply(store: DocumentStore, envs: Envelope[]): Promise<unknown>;
}

export function envelopeProjection({ apply, ...projection }: EnvelopeProjection): Projection {
  return {
    ...projection,
    apply: async (store, batch) => {
      await apply(
        store,
        batch.flatMap((r) => fromRecord(r.value) ?? []),
      );
    },
  };
}
