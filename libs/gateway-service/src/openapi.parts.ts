/** Pieces the OpenAPI document's sections share: references, JSON bodies, the error answers. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
export const errors = {
  '400': { description: 'Bad input: the message says which field and what to send', ...json(ref('Error')) },
  '401': { description: 'Missing, unknown or revoked API key', ...json(ref('Error')) },
  '404': { description: "Not found (or another tenant's)", ...json(ref('Error')) },
};
export const conflict = { '409': { description: 'Not in a state that allows this (WORKFLOW_DISABLED, WORKFLOW_ARCHIVED, CONFLICT): the message says how to get there', ...json(ref('Error')) } };
export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };

/** `?limit=` and `?cursor=` of a list that pages with a cursor (see `./paging.ts`). */
export const pageParams = (bounds: { min: number; max: number; default: number }) => [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: bounds.min, maximum: bounds.max, default: bounds.default }, description: 'Most items in the page' },
  { name: 'cursor', in: 'query', schema: { type: 'string' }, description: "The previous page's nextCursor; none for the first page" },
];
/** The `nextCursor` property of a page. */
export const nextCursor = { type: ['string', 'null'], description: 'Send as ?cursor= for the next page; null on the last page' };
