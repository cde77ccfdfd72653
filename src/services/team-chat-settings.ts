import type { AppContext } from '../context.ts';
import { ValidationError } from '../domain/errors.ts';
import { allow, authorize, deny } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import { isOrgAdmin } from '../domain/principal.ts';
import {
  DIGEST_MINUTES_RANGE,
  isValidPublicUrl,
  READ_RECEIPTS_MAX_RANGE,
  TEAM_CHAT_SETTINGS_KEY,
  type TeamChatSettings,
  teamChatSettingsFrom,
  teamChatSettingsJson,
} from '../domain/team-chat.ts';
import { findNotifySettings, upsertDigestMinutes } from '../store/repos/notify.ts';
import { findOrgSettings, updateOrgSetting } from '../store/repos/orgs.ts';
import { inTransaction } from './tx.ts';

/** The org's team-chat settings (anyone in the org may read them). */
export async function getTeamChatSettings(ctx: AppContext, p: Principal): Promise<TeamChatSettings> {
  return teamChatSettingsFrom(await findOrgSettings(ctx.db, p.orgId));
}

const checkInt = (v: number | undefined, range: { min: number; max: number }, path: string) => {
  if (v !== undefined && (!Number.isInteger(v) || v < range.min || v > range.max))
    throw ValidationError.field(
      path,
      `must be an integer from ${range.min} to ${range.max}`,
      'invalid_setting',
    );
};

/** Changes the org's team-chat settings (owners and admins: `admin_role_required` 403; `invalid_setting` 400). */
export async function updateTeamChatSettings(
  ctx: AppContext,
  p: Principal,
  patch: Partial<TeamChatSettings>,
): Promise<TeamChatSettings> {
  authorize(isOrgAdmin(p) ? allow() : deny('admin_role_required', 'Only org owners and admins can do this'));
  checkInt(patch.readReceiptsMaxMembers, READ_RECEIPTS_MAX_RANGE, 'body.read_receipts_max_members');
  checkInt(patch.digestAfterMinutes, DIGEST_MINUTES_RANGE, 'body.digest_after_minutes');
  if (patch.publicUrl !== undefined && patch.publicUrl !== null && !isValidPublicUrl(patch.publicUrl))
    throw ValidationError.field(
      'body.public_url',
      'must be an http(s) URL of at most 200 characters, without credentials, query or fragment',
      'invalid_setting',
    );
  const next = { ...(await getTeamChatSettings(ctx, p)) };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
  await updateOrgSetting(ctx.db, p.orgId, TEAM_CHAT_SETTINGS_KEY, teamChatSettingsJson(next));
  return getTeamChatSettings(ctx, p);
}

export interface MyNotifySettings {
  /** Minutes offline before a digest mail; null: the org's setting; 0: never. */
  digestMinutes: number | null;
  /** What applies now (the org's when digestMinutes is null). */
  effectiveDigestMinutes: number;
}

export async function getMyNotifySettings(ctx: AppContext, p: Principal): Promise<MyNotifySettings> {
  const mine = await findNotifySettings(ctx.db, p.actor.id);
  const org = await getTeamChatSettings(ctx, p);
  const digestMinutes = mine?.digestMinutes ?? null;
  return { digestMinutes, effectiveDigestMinutes: digestMinutes ?? org.digestAfterMinutes };
}

/** Sets the caller's digest delay (`invalid_setting` 400). */
export async function updateMyNotifySettings(
  ctx: AppContext,
  p: Principal,
  digestMinutes: number | null,
): Promise<MyNotifySettings> {
  if (digestMinutes !== null) checkInt(digestMinutes, DIGEST_MINUTES_RANGE, 'body.digest_minutes');
  await inTransaction(ctx, (tx) => upsertDigestMinutes(tx.db, p.orgId, p.actor.id, digestMinutes));
  return getMyNotifySettings(ctx, p);
}
