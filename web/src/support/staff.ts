import type { Me } from '../api.ts';

/** Staff who operate support: operators, admins and owners whose token reads support. */
export function isSupportStaff(me: Me): boolean {
  return me.scopes.includes('support:read') && ['owner', 'admin', 'operator'].includes(me.actor.role ?? '');
}

/** Owners and admins with the `admin` scope: they set up widgets and canned responses. */
export function isSupportAdmin(me: Me): boolean {
  return me.scopes.includes('admin') && ['owner', 'admin'].includes(me.actor.role ?? '');
}

/**
 * Why this token may not use the console, or null. Visitors (a widget's `pv_…` credential, or a
 * token of a visitor actor) belong in the chat widget, not in the staff console.
 */
export function visitorRefusal(token: string, me?: Me): string | null {
  const plain =
    'This is a visitor sign-in: visitors chat through the website widget, not this console. Sign in with a staff access token (pk_…).';
  if (/^pv_/i.test(token)) return plain;
  if (me && me.actor.kind === 'visitor') return plain;
  return null;
}
