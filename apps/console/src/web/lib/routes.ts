/** The console's URLs (all served index.html by the gateway, so a reload at any of them works). */
export type View =
  | { name: 'workflows' }
  | { name: 'workflow'; id: string }
  | { name: 'versions'; id: string; from: number; to: number }
  | { name: 'history'; workflowId: string; status: string; since: string; until: string; objectId: string }
  | { name: 'enrollment'; id: string }
  | { name: 'tail'; enrollmentId: string; workflowId: string }
  | { name: 'secrets' }
  | { name: 'connections' }
  | { name: 'settings' }
  | { name: 'api-keys' }
  | { name: 'not-found'; path: string };

/** A version number of the query (0: none given). */
const version = (raw: string | null): number => (raw && /^\d{1,9}$/.test(raw) ? Number(raw) : 0);

export function parseLocation(pathname: string, search: string): View {
  const q = new URLSearchParams(search);
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0 || (first === 'workflows' && parts.length === 1)) return { name: 'workflows' };
  if (first === 'workflows' && second && parts.length === 2) return { name: 'workflow', id: second };
  if (first === 'workflows' && second && parts[2] === 'versions' && parts.length === 3) return { name: 'versions', id: second, from: version(q.get('from')), to: version(q.get('to')) };
  if (first === 'history' && parts.length === 1)
    return { name: 'history', workflowId: q.get('workflowId') ?? '', status: q.get('status') ?? '', since: q.get('since') ?? '', until: q.get('until') ?? '', objectId: q.get('objectId') ?? '' };
  if (first === 'enrollments' && second && parts.length === 2) return { name: 'enrollment', id: second };
  if (first === 'tail' && parts.length === 1) return { name: 'tail', enrollmentId: q.get('enrollmentId') ?? '', workflowId: q.get('workflowId') ?? '' };
  if (first === 'secrets' && parts.length === 1) return { name: 'secrets' };
  if (first === 'connections' && parts.length === 1) return { name: 'connections' };
  if (first === 'settings' && parts.length === 1) return { name: 'settings' };
  if (first === 'api-keys' && parts.length === 1) return { name: 'api-keys' };
  return { name: 'not-found', path: pathname };
}

export function hrefOf(view: View): string {
  switch (view.name) {
    case 'workflows':
      return '/workflows';
    case 'workflow':
      return `/workflows/${encodeURIComponent(view.id)}`;
    case 'versions': {
      const q = new URLSearchParams();
      if (view.from) q.set('from', String(view.from));
      if (view.to) q.set('to', String(view.to));
      const s = q.toString();
      return `/workflows/${encodeURIComponent(view.id)}/versions${s ? `?${s}` : ''}`;
    }
    case 'history': {
      const q = new URLSearchParams();
      if (view.workflowId) q.set('workflowId', view.workflowId);
      if (view.status) q.set('status', view.status);
      if (view.objectId) q.set('objectId', view.objectId);
      if (view.since) q.set('since', view.since);
      if (view.until) q.set('until', view.until);
      const s = q.toString();
      return `/history${s ? `?${s}` : ''}`;
    }
    case 'enrollment':
      return `/enrollments/${encodeURIComponent(view.id)}`;
    case 'tail': {
      const q = new URLSearchParams();
      if (view.enrollmentId) q.set('enrollmentId', view.enrollmentId);
      if (view.workflowId) q.set('workflowId', view.workflowId);
      const s = q.toString();
      return `/tail${s ? `?${s}` : ''}`;
    }
    case 'secrets':
      return '/secrets';
    case 'connections':
      return '/connections';
    case 'settings':
      return '/settings';
    case 'api-keys':
      return '/api-keys';
    case 'not-found':
      return view.path;
  }
}
