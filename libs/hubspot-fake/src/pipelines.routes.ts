/**
 * `/crm/v3/pipelines/{objectType}[/{pipelineId}[/stages[/{stageId}]]]`: read the portal's
 * pipelines and stages (every portal starts with HubSpot's default deal pipeline `default` and
 * ticket pipeline `0`), and `POST /crm/v3/pipelines/{objectType}` to add one. Stage metadata is
 * as HubSpot sends it: strings (`probability: "0.2"`, `isClosed: "false"`, `ticketState: "OPEN"`).
 */
import { readObject, withAuth } from './api-auth.ts';
import { formatInstant } from './crm.properties.ts';
import type { FakeContext, FakeRequest } from './fake-context.ts';
import { crmError, resourceNotFound, validationError, type FakeResponse } from './hubspot-errors.ts';
import { resolveObjectType } from './object-types.ts';

export interface Stage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
}

export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: Stage[];
}

const DEAL_STAGES: Array<[string, string, string, boolean]> = [
  ['appointmentscheduled', 'Appointment Scheduled', '0.2', false],
  ['qualifiedtobuy', 'Qualified To Buy', '0.4', false],
  ['presentationscheduled', 'Presentation Scheduled', '0.6', false],
  ['decisionmakerboughtin', 'Decision Maker Bought-In', '0.8', false],
  ['contractsent', 'Contract Sent', '0.9', false],
  ['closedwon', 'Closed Won', '1.0', true],
  ['closedlost', 'Closed Lost', '0.0', true],
];

const TICKET_STAGES: Array<[string, string, string]> = [
  ['1', 'New', 'OPEN'],
  ['2', 'Waiting on contact', 'OPEN'],
  ['3', 'Waiting on us', 'OPEN'],
  ['4', 'Closed', 'CLOSED'],
];

function defaults(type: string): Pipeline[] {
  if (type === 'deals') {
    return [
      {
        id: 'default',
        label: 'Sales Pipeline',
        displayOrder: 0,
        stages: DEAL_STAGES.map(([id, label, probability, isClosed], i) => ({ id, label, displayOrder: i, metadata: { isClosed: String(isClosed), probability } })),
      },
    ];
  }
  if (type === 'tickets') {
    return [
      {
        id: '0',
        label: 'Support Pipeline',
        displayOrder: 0,
        stages: TICKET_STAGES.map(([id, label, ticketState], i) => ({ id, label, displayOrder: i, metadata: { ticketState, isClosed: String(ticketState === 'CLOSED') } })),
      },
    ];
  }
  return [];
}

export class PipelineStore {
  readonly #pipelines = new Map<string, Pipeline[]>();
  #nextId = 70_000_001;

  list(portalId: number, type: string): Pipeline[] {
    const key = `${portalId}|${type}`;
    let list = this.#pipelines.get(key);
    if (!list) {
      list = defaults(type);
      this.#pipelines.set(key, list);
    }
    return list;
  }

  add(
    portalId: number,
    type: string,
    input: { id?: string; label: string; displayOrder?: number; stages: Array<{ id?: string; label: string; displayOrder?: number; metadata?: Record<string, unknown> }> },
  ): Pipeline {
    const list = this.list(portalId, type);
    const pipeline: Pipeline = {
      id: input.id ?? String(this.#nextId++),
      label: input.label,
      displayOrder: input.displayOrder ?? list.length,
      stages: input.stages.map((s, i) => ({
        id: s.id ?? String(this.#nextId++),
        label: s.label,
        displayOrder: s.displayOrder ?? i,
        metadata: Object.fromEntries(Object.entries(s.metadata ?? {}).map(([k, v]) => [k, String(v)])),
      })),
    };
    list.push(pipeline);
    return pipeline;
  }

  clear(): void {
    this.#pipelines.clear();
  }
}

function stageToWire(stage: Stage, at: string): Record<string, unknown> {
  return {
    id: stage.id,
    label: stage.label,
    displayOrder: stage.displayOrder,
    metadata: stage.metadata,
    createdAt: at,
    updatedAt: at,
    archived: false,
    writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
  };
}

function pipelineToWire(p: Pipeline, at: string): Record<string, unknown> {
  return { id: p.id, label: p.label, displayOrder: p.displayOrder, stages: p.stages.map((s) => stageToWire(s, at)), createdAt: at, updatedAt: at, archived: false };
}

export function handlePipelines(ctx: FakeContext, req: FakeRequest): FakeResponse | undefined {
  const s = req.segments;
  if (s[0] !== 'crm' || s[1] !== 'v3' || s[2] !== 'pipelines' || s.length < 4) return undefined;
  return withAuth(ctx, req, [], (token) => {
    const type = resolveObjectType(s[3] ?? '')?.name ?? ctx.schemas.find(token.portalId, s[3] ?? '')?.spec.name;
    if (!type) return validationError(req.correlationId, `Unable to infer object type from: ${s[3]}`);
    const at = formatInstant(0);
    const pipelines = ctx.pipelines.list(token.portalId, type);
    if (s.length === 4 && req.method === 'GET') return { status: 200, body: { results: pipelines.map((p) => pipelineToWire(p, at)) } };
    if (s.length === 4 && req.method === 'POST') {
      const body = readObject(req);
      if (!body.ok) return body.response;
      const { label, stages } = body.value as { label?: unknown; stages?: unknown };
      if (typeof label !== 'string' || !Array.isArray(stages) || stages.length === 0) return validationError(req.correlationId, 'Invalid input JSON: a pipeline needs a label and at least one stage');
      return { status: 201, body: pipelineToWire(ctx.pipelines.add(token.portalId, type, body.value as unknown as Parameters<PipelineStore['add']>[2]), at) };
    }
    if (req.method !== 'GET') return crmError(405, req.correlationId, { message: `HTTP ${req.method} is not supported by this endpoint` });
    const pipeline = pipelines.find((p) => p.id === s[4]);
    if (!pipeline) return resourceNotFound(req.correlationId);
    if (s.length === 5) return { status: 200, body: pipelineToWire(pipeline, at) };
    if (s[5] !== 'stages' || s.length > 7) return resourceNotFound(req.correlationId);
    if (s.length === 6) return { status: 200, body: { results: pipeline.stages.map((st) => stageToWire(st, at)) } };
    const stage = pipeline.stages.find((st) => st.id === s[6]);
    return stage ? { status: 200, body: stageToWire(stage, at) } : resourceNotFound(req.correlationId);
  });
}
