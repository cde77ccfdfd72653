import { iso, optIso } from '../../domain/presenters.ts';
import type { AppRecord } from '../../store/repos/apps.ts';

/** An API app as the API shows it (http/schemas/apps.ts); the secret only where it is made. */
export function presentApp(a: AppRecord) {
  return {
    id: a.id,
    app_id: a.appId,
    name: a.name,
    created_at: iso(a.createdAt),
    revoked_at: optIso(a.revokedAt),
  };
}
