/**
 * Provider account → connection: which tenant installed the HubSpot app in a portal. Read from
 * the provider-accounts projection (`connections.projection.ts`), which is across tenants by
 * nature: HubSpot's calls name a portal, never a tenant. A portal connected by two tenants is
 * refused for both rather than guessed, so one tenant never gets another's calls.
 */
import { CodestepError, NotFoundError, ValidationError } from '@codestep/core';
import { tenantScoped } from '@codestep/store';
import type { BrokerContext } from './broker.context.ts';
import { COLLECTIONS, accountKey, type ConnectionView, type ProviderAccountDoc } from './connection.model.ts';

const ACCOUNT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Active before needs_reauth; then the latest authorized. */
function rank(a: ProviderAccountDoc, b: ProviderAccountDoc): number {
  const live = (d: ProviderAccountDoc) => (d.status === 'active' ? 0 : 1);
  return live(a) - live(b) || b.authorizedAt - a.authorizedAt || a.handle.localeCompare(b.handle);
}

export async function findAccountConnection(ctx: BrokerContext, input: { provider: string; accountId: string }): Promise<ConnectionView> {
  const provider = ctx.providers.get(input.provider);
  if (!provider) throw new ValidationError(`unknown provider ${JSON.stringify(input.provider.slice(0, 40))}`, { field: 'provider' });
  if (!ACCOUNT_ID.test(input.accountId))
    throw new ValidationError(`account id ${JSON.stringify(input.accountId.slice(0, 80))} is not one a provider gives (letters, digits, 1–64 characters)`, { field: 'accountId' });
  const entries = await ctx.store.find<ProviderAccountDoc>(COLLECTIONS.providerAccounts, { where: { accountKey: accountKey(provider.id, input.accountId) }, limit: 1000 });
  const usable = entries.map((e) => e.doc).filter((d) => d.status === 'active' || d.status === 'needs_reauth');
  const tenants = new Set(usable.map((d) => d.tenantId));
  if (tenants.size === 0) {
    throw new NotFoundError(
      `no codestep account has installed the ${provider.displayName} app in account ${input.accountId}: connect it from that codestep account (POST /v1/connections with provider "${provider.id}", then open the authorize URL and pick account ${input.accountId})`,
    );
  }
  if (tenants.size > 1) {
    throw new CodestepError(
      'FAILED_PRECONDITION',
      `${provider.displayName} account ${input.accountId} is connected by ${tenants.size} codestep accounts, so its calls cannot be routed: revoke the connection in all but one (DELETE /v1/connections/{handle})`,
    );
  }
  const chosen = usable.sort(rank)[0]!;
  const view = await tenantScoped(ctx.store, chosen.tenantId).get<ConnectionView>(COLLECTIONS.connectionViews, chosen.handle);
  if (!view) throw new NotFoundError(`the connection of ${provider.displayName} account ${input.accountId} is not visible yet; try again in a moment`);
  return view.doc;
}
