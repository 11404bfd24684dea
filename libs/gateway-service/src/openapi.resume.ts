/** The OpenAPI sections of JsWorkflows waits: the resume URL, and a wait in the history. */
import { json } from './openapi.parts.ts';

/** An execution's `wait`: the step an api.waitForEvent wait resumes, and the state of its resume URL. */
export const waitSchema = {
  type: 'object',
  description: 'JsWorkflows only: this execution is the step an api.waitForEvent wait resumes, and the state of its resume URL',
  properties: {
    state: { enum: ['waiting', 'resumed', 'timed_out'] },
    timeoutAt: { type: 'string', format: 'date-time' },
    endedAt: { type: ['string', 'null'], format: 'date-time', description: 'When it was resumed or timed out' },
    resumedBy: { type: ['string', 'null'], enum: ['GET', 'POST', null] },
    redirectUrl: { type: ['string', 'null'] },
  },
};

/** The resume URL of a wait (no API key: the token is the credential). */
export function resumePaths(): Record<string, unknown> {
  return {
    '/resume/{token}': {
      parameters: [
        {
          name: 'token',
          in: 'path',
          required: true,
          description: 'The resume token api.waitForEvent returned (rt_…): the credential, single use',
          schema: { type: 'string', pattern: '^rt_[A-Za-z0-9_-]{32}$' },
        },
      ],
      post: {
        operationId: 'resumeWait',
        summary:
          "Resumes a JsWorkflows wait (api.waitForEvent): its step runs with the wait's payload merged with this JSON object (or HTML form). No API key: the token is the credential, and names the tenant",
        security: [],
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object' } }, 'application/x-www-form-urlencoded': { schema: { type: 'object' } } } },
        responses: {
          '200': {
            description: 'Resumed',
            ...json({
              type: 'object',
              properties: { success: { const: true }, status: { const: 'resumed' }, enrollmentId: { type: 'string' }, executionId: { type: 'string' }, action: { type: 'string' } },
            }),
          },
          '303': { description: 'Resumed, from a browser (Accept: text/html) when the wait has a redirect_url: go there' },
          '400': { description: 'The body is not a JSON object' },
          '404': { description: 'No wait has this token (mistyped, or the step that made it failed)' },
          '409': { description: 'WAIT_ALREADY_RESUMED: the URL was used already; a wait resumes once' },
          '410': { description: 'WAIT_EXPIRED: the wait timed out (its branch ended), or its run ended' },
          '413': { description: 'The merged data is over the step payload cap' },
        },
      },
      get: {
        operationId: 'resumeWaitFromBrowser',
        summary:
          "Resumes a JsWorkflows wait with the query parameters merged into its payload, for a person clicking a link: then redirects to its redirect_url, or shows a confirmation page. A link preview's fetch (Slackbot-LinkExpanding, Twitterbot, …, by user agent) gets a page and resumes nothing",
        security: [],
        responses: {
          '200': { description: 'Resumed: a confirmation page (HTML)' },
          '302': { description: "Resumed: to the wait's redirect_url" },
          '404': { description: 'Unknown link (HTML page)' },
          '409': { description: 'Already used (HTML page)' },
          '410': { description: 'Timed out, or its run ended (HTML page)' },
        },
      },
    },
  };
}
