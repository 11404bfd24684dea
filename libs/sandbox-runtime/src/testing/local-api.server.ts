/**
 * A tiny local HTTP server for the runtime's tests: a few HubSpot CRM v3 contact routes (enough
 * for the official client's basicApi and searchApi, with HubSpot's error body on 404) and JSON
 * echo routes for fetch and axios.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalApi {
  url: string;
  requests: Array<{ method: string; path: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

interface Contact {
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

export async function startLocalApi(): Promise<LocalApi> {
  const contacts = new Map<string, Contact>();
  let nextId = 100;
  const now = new Date(0).toISOString();
  contacts.set('1', { id: '1', properties: { email: 'ada@example.com', firstname: 'Ada' }, createdAt: now, updatedAt: now, archived: false });
  const requests: LocalApi['requests'] = [];

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const notFound = (res: http.ServerResponse, message: string) => send(res, 404, { status: 'error', message, correlationId: '00000000-0000-0000-0000-000000000000', category: 'OBJECT_NOT_FOUND' });
  const view = (c: Contact, wanted: string[] | null) => ({
    ...c,
    properties: wanted === null ? c.properties : Object.fromEntries(wanted.filter((k) => k in c.properties).map((k) => [k, c.properties[k]])),
  });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const url = new URL(req.url ?? '/', 'http://local');
      requests.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers, body });
      const json = () => (body ? (JSON.parse(body) as Record<string, unknown>) : {});
      const route = `${req.method} ${url.pathname}`;
      let m: RegExpExecArray | null;
      if (route === 'GET /echo' || route === 'POST /echo' || route === 'PUT /echo') {
        send(res, 200, { method: req.method, query: Object.fromEntries(url.searchParams), headers: req.headers, body }, { 'x-echo': 'yes' });
      } else if (route === 'GET /status/404') {
        send(res, 404, { error: 'nope' });
      } else if (route === 'GET /bytes') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.from([0, 1, 2, 253, 254, 255]));
      } else if (route === 'POST /crm/v3/objects/contacts/search') {
        const filters = ((json().filterGroups as Array<{ filters: Array<{ propertyName: string; operator: string; value: string }> }> | undefined) ?? []).flatMap((g) => g.filters);
        const results = [...contacts.values()].filter((c) => filters.every((f) => f.operator === 'EQ' && c.properties[f.propertyName] === f.value));
        send(res, 200, { total: results.length, results: results.map((c) => view(c, null)) });
      } else if (route === 'POST /crm/v3/objects/contacts') {
        const id = String(nextId++);
        const contact = { id, properties: (json().properties as Record<string, string>) ?? {}, createdAt: now, updatedAt: now, archived: false };
        contacts.set(id, contact);
        send(res, 201, contact);
      } else if ((m = /^(GET|PATCH) \/crm\/v3\/objects\/contacts\/([^/]+)$/.exec(route))) {
        const contact = contacts.get(decodeURIComponent(m[2] ?? ''));
        if (!contact) {
          notFound(res, 'resource not found');
          return;
        }
        if (m[1] === 'PATCH') Object.assign(contact.properties, json().properties as Record<string, string>);
        const wanted = url.searchParams.get('properties');
        send(res, 200, view(contact, wanted === null ? null : wanted.split(',')));
      } else {
        notFound(res, `no route ${route}`);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
