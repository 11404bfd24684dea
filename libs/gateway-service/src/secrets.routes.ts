/** HTTP routes for action secrets: set, list (names only), delete. Values never come back. */
import type { credentialsV1 } from '@codestep/contracts';
import { ValidationError } from '@codestep/core';
import type { PromiseClient } from '@codestep/rpc';
import type { Route } from './router.ts';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function secretRoutes(c: PromiseClient<credentialsV1.CredentialsClient>): Route[] {
  return [
    {
      method: 'PUT',
      path: '/v1/secrets/:name',
      auth: 'tenant',
      handle: async (req) => {
        if (!isObj(req.body) || typeof req.body.value !== 'string') throw new ValidationError('body must be {"value": "<the secret>"}');
        const info = await c.putSecret({ tenantId: req.tenantId, name: req.params.name!, value: req.body.value });
        return { status: 200, body: { name: info.name, updatedAt: new Date(info.updatedAt).toISOString() } };
      },
    },
    {
      method: 'GET',
      path: '/v1/secrets',
      auth: 'tenant',
      handle: async (req) => ({
        status: 200,
        body: { secrets: (await c.listSecrets({ tenantId: req.tenantId })).secrets.map((s) => ({ name: s.name, updatedAt: new Date(s.updatedAt).toISOString() })) },
      }),
    },
    {
      method: 'DELETE',
      path: '/v1/secrets/:name',
      auth: 'tenant',
      handle: async (req) => ({ status: 200, body: { deleted: (await c.deleteSecret({ tenantId: req.tenantId, name: req.params.name! })).deleted } }),
    },
  ];
}
