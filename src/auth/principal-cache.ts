import type { Principal } from '../domain/principal.ts';

/**
 * Resolved tokens of this node, for a few seconds: a request needs no token or actor read.
 * Revoking a token or deactivating an actor forgets them here at once, and on every other
 * node when the event reaches it (or, at the latest, when the entry expires).
 */
export class PrincipalCache {
  readonly #byHash = new Map<string, { principal: Principal; until: number }>();

  get(hash: string, now: number): Principal | undefined {
    const e = this.#byHash.get(hash);
    if (!e) return undefined;
    if (e.until <= now) {
      this.#byHash.delete(hash);
      return undefined;
    }
    return e.principal;
  }

  set(hash: string, principal: Principal, until: number): void {
    if (this.#byHash.size >= 10_000) this.#byHash.clear();
    this.#byHash.set(hash, { principal, until });
  }

  forget(match: { tokenId?: string; actorId?: string; orgId?: string }): void {
    for (const [hash, e] of this.#byHash) {
      if (
        e.principal.tokenId === match.tokenId ||
        e.principal.actor.id === match.actorId ||
        e.principal.orgId === match.orgId
      )
        this.#byHash.delete(hash);
    }
  }
}
