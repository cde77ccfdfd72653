/** Shared by every native list route: a service's page in the list shape. Each aggregate's presenters are in http/present/<aggregate>.ts. */

/** A page a service read, in the native list shape (`items`, `next_cursor`), each item presented. */
export function presentPage<T, J>(
  result: { items: readonly T[]; nextCursor: string | null },
  present: (item: T) => J,
): { items: J[]; next_cursor: string | null } {
  return { items: result.items.map((item) => present(item)), next_cursor: result.nextCursor };
}
