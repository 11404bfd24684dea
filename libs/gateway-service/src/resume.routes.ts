/**
 * The resume URLs of JsWorkflows waits (`api.waitForEvent`): `POST /resume/{token}` resumes the
 * wait with the body's fields (JSON, or an HTML form's) merged into its payload and answers JSON;
 * `GET /resume/{token}` resumes it with the query parameters, then redirects the browser to the
 * wait's `redirect_url` or shows a small confirmation page. No API key: the token is the
 * credential, and the enrollment service finds the tenant from it. A URL used twice answers 409,
 * one that timed out 410 (a browser's GET as a page, otherwise JSON). Chat apps fetch the links posted in
 * them to show a preview (Slack's unfurler first of all, where approval links are sent): such a
 * GET is answered with a page and resumes nothing.
 */
import { isCodestepError } from '@codestep/core';
import type { ApiClients } from './api.routes.ts';
import type { Route, RouteResponse } from './router.ts';
import { jsonDepth, MAX_JSON_DEPTH } from './request-input.parser.ts';
import { statusFor } from './router.ts';

/** The user agents of link previews (chat and social unfurlers): they fetch a link nobody clicked. */
const LINK_PREVIEW = /slackbot|slack-imgproxy|facebookexternalhit|twitterbot|discordbot|linkedinbot|telegrambot|whatsapp|skypeuripreview|microsoftpreview|teams|googlebot|bingbot|embedly|redditbot/i;

/** Most bytes of a resume request's body (the resumed step's data is capped again, merged). */
const MAX_RESUME_BODY = 1024 * 1024;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, title: string, message: string): RouteResponse {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title></head><body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></body></html>`;
  return { status, body, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' } };
}

/** The request's data as an object: a JSON object, or an HTML form's fields; what else is refused. */
function bodyData(text: string | undefined, contentType: string): Record<string, unknown> | string {
  if (text === undefined || text.trim() === '') return {};
  if (contentType.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  // Nested deeper than any parser or serialiser copes with: refused before it becomes a value.
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) return `the body is nested ${depth} levels deep; at most ${MAX_JSON_DEPTH} levels of arrays and objects are accepted`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'the body is not JSON: send a JSON object (or an HTML form), whose fields are merged into the wait payload';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the body must be a JSON object: its fields are merged into the wait payload';
  return parsed as Record<string, unknown>;
}

export function resumeRoutes(c: Pick<ApiClients, 'enrollments'>): Route[] {
  const resume = async (token: string, method: 'GET' | 'POST', data: Record<string, unknown>) => c.enrollments.resumeWait({ token, method, dataJson: JSON.stringify(data) });

  return [
    {
      method: 'POST',
      path: '/resume/:token',
      auth: 'none',
      rawBody: { maxBytes: MAX_RESUME_BODY },
      handle: async (req) => {
        const data = bodyData(req.body as string | undefined, req.headers['content-type'] ?? '');
        if (typeof data === 'string') return { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: data } } };
        const out = await resume(req.params.token!, 'POST', data);
        // A browser's form post goes where the wait says, as a GET.
        if (out.redirectUrl && (req.headers.accept ?? '').includes('text/html')) return { status: 303, body: '', headers: { location: out.redirectUrl, 'content-type': 'text/plain' } };
        return { status: 200, body: { success: true, status: 'resumed', enrollmentId: out.enrollmentId, executionId: out.executionId, action: out.action } };
      },
    },
    {
      method: 'GET',
      path: '/resume/:token',
      auth: 'none',
      handle: async (req) => {
        if (LINK_PREVIEW.test(req.headers['user-agent'] ?? '')) return page(200, 'Your response is needed', 'Open this link in a browser to respond.');
        try {
          const out = await resume(req.params.token!, 'GET', Object.fromEntries(req.query));
          if (out.redirectUrl) return { status: 302, body: '', headers: { location: out.redirectUrl, 'content-type': 'text/plain', 'cache-control': 'no-store' } };
          return page(200, 'Thank you', 'Your response was received: the workflow goes on. You can close this page.');
        } catch (error) {
          // A person opened the link (a browser asks for text/html): the refusal as a page, with its
          // status; a program gets the catalogue's JSON error like any other route.
          if (!isCodestepError(error) || !(req.headers.accept ?? '').includes('text/html')) throw error;
          const status = statusFor(error.code);
          const title = status === 409 ? 'Already done' : status === 410 ? 'This link has expired' : status === 404 ? 'Unknown link' : 'Something went wrong';
          return page(status, title, error.message);
        }
      },
    },
  ];
}
