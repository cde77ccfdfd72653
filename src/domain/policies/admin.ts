import { isOrgAdmin, type Principal } from '../principal.ts';
import { allow, type Decision, deny } from './decision.ts';

/**
 * Who may change the org's own machinery: API apps, webhooks, rate limits and other people's
 * tokens. All of these are org owners and admins; each is a policy of its own so that a later
 * role (say, an integrations manager) changes one function, and so the policy table names them.
 */
const adminsOnly = (p: Principal, what: string): Decision =>
  isOrgAdmin(p) ? allow() : deny('admin_role_required', `Only org owners and admins ${what}`);

export function canManageApps(p: Principal): Decision {
  return adminsOnly(p, 'manage API apps');
}

export function canManageWebhooks(p: Principal): Decision {
  return adminsOnly(p, 'manage webhooks');
}

export function canManageRateLimits(p: Principal): Decision {
  return adminsOnly(p, 'can change rate limits');
}

/** Issue a token for `actorId`: anyone for themselves, admins for anyone in the org. */
export function canIssueTokenFor(p: Principal, actorId: string): Decision {
  if (actorId === p.actor.id) return allow();
  return adminsOnly(p, 'can issue tokens for others');
}

/** See (and revoke) every token of the org rather than only one's own. */
export function canSeeAllTokens(p: Principal): boolean {
  return isOrgAdmin(p);
}
