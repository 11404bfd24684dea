import { errors, json, ref } from './openapi.parts.ts';

/** A workflow's HubSpot CRM trigger, as set with PUT. */
const trigger = {
  type: 'object',
  properties: {
    subscription: {
      type: 'string',
      example: 'contact.creation',
      description: '<object>.<event>: contact, company, deal, ticket, product, line_item × creation, deletion, propertyChange, merge, restore, associationChange',
    },
    propertyName: { type: 'string', description: 'propertyChange only: the one property (any when absent)' },
    reenroll: {
      type: 'string',
      enum: ['never', 'always', 'after'],
      default: 'always',
      description:
        'never: an object enrolls once; always: on every event; after: again only once reenrollAfterMinutes have passed since its last enrollment by this trigger (events before that are skipped)',
    },
    reenrollAfterMinutes: {
      type: 'integer',
      minimum: 1,
      maximum: 525600,
      example: 60,
      description: 'With reenroll "after" only (and required there): the minutes an object waits before it enrolls again',
    },
  },
  required: ['subscription'],
};

/** The HubSpot app: what HubSpot calls (signed, no API key), and a workflow's HubSpot CRM trigger. */
export function hubspotPaths(): Record<string, unknown> {
  const signed = {
    security: [],
    parameters: [
      {
        name: 'X-HubSpot-Signature-v3',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description: 'base64 HMAC-SHA256 (client secret) of method + URL + body + timestamp; decides when sent',
      },
      { name: 'X-HubSpot-Request-Timestamp', in: 'header', required: false, schema: { type: 'string' }, description: 'UNIX ms; refused when more than 5 minutes old' },
      { name: 'X-HubSpot-Signature', in: 'header', required: false, schema: { type: 'string' }, description: 'v1 (webhooks) or v2 (workflow actions), as X-HubSpot-Signature-Version says' },
    ],
  };
  const refused = {
    '400': { description: 'Malformed payload: the message names the field', ...json(ref('Error')) },
    '401': { description: 'Missing, wrong or stale HubSpot signature: nothing was enrolled', ...json(ref('Error')) },
    '404': { description: 'No codestep account installed the app in that portal (connect HubSpot from it), or the chosen workflow does not exist', ...json(ref('Error')) },
    '409': { description: 'The portal is connected by two codestep accounts, or this codestep is not set up as a HubSpot app', ...json(ref('Error')) },
  };
  return {
    '/integrations/hubspot/actions': {
      post: {
        operationId: 'hubspotExecuteAction',
        ...signed,
        summary: 'One execution of the codestep workflow action in a HubSpot workflow (HubSpot calls it)',
        description:
          'Enrolls the object into the workflow chosen in the input field `codestep_workflow`, once per callbackId. Answers `{ outputFields }` when the enrollment finishes within HUBSPOT_ACTION_ANSWER_MS, otherwise `hs_execution_state: BLOCK` and completes the callback later through HubSpot’s callbacks API.',
        requestBody: json({
          type: 'object',
          required: ['callbackId', 'origin', 'object'],
          properties: { callbackId: { type: 'string' }, origin: { type: 'object' }, context: { type: 'object' }, object: { type: 'object' }, inputFields: { type: 'object' } },
        }),
        responses: { '200': { description: '`{ outputFields }`, or BLOCK', ...json({ type: 'object', properties: { outputFields: { type: 'object' } } }) }, ...refused },
      },
    },
    '/integrations/hubspot/actions/workflow-options': {
      post: {
        operationId: 'hubspotWorkflowOptions',
        ...signed,
        summary: 'The optionsUrl of the action’s workflow field: the installing account’s workflows',
        responses: { '200': { description: '`{ options: [{ label, value }] }`' }, ...refused },
      },
    },
    '/integrations/hubspot/webhooks': {
      post: {
        operationId: 'hubspotWebhooks',
        ...signed,
        summary: 'HubSpot CRM webhook batches (up to 100 events): each event enrolls the object into the workflows whose HubSpot trigger matches, once per eventId',
        requestBody: json({ type: 'array', maxItems: 100, items: { type: 'object' } }),
        responses: {
          '200': {
            description:
              '`{ accepted, enrolled, ignored, skipped }`: `ignored`, events of portals no account installed the app in (`{ eventId, reason }`); `skipped`, matches that enrolled nothing, with why (`{ eventId, workflowId, reason }`: the trigger re-enrolls after N minutes, or an earlier event of the delivery enrolls the object)',
          },
          ...refused,
        },
      },
    },
    '/v1/workflows/{id}/hubspot-trigger': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { operationId: 'getHubSpotTrigger', summary: "The workflow's HubSpot CRM trigger (subscription null when none)", responses: { '200': { description: 'OK' }, ...errors } },
      put: {
        operationId: 'setHubSpotTrigger',
        summary: 'Enroll objects of HubSpot webhook events of this subscription from the installing portal',
        requestBody: json(trigger),
        responses: { '200': { description: 'OK' }, ...errors },
      },
      delete: { operationId: 'deleteHubSpotTrigger', summary: "Remove the workflow's HubSpot trigger", responses: { '200': { description: 'OK' }, ...errors } },
    },
  };
}
