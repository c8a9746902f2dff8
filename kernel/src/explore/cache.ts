/**
 * The explorer cache (seed package-explorer "Explorer cache"): per-query results kept in memory for
 * 10 minutes, dropped by registry on publish or by an administrator, and served stale when the
 * database fails.
 *
 * @remarks
 * Each entry remembers which registries its result covers, so `invalidate(registry)` drops exactly
 * the entries that could contain that registry's packages. The cache is per process (the seed's
 * multi-instance note): a flush only affects the replica that handled it.
 */
import type { Clock } from '@batlehub/sdk'

/** Seed: "TTL 10 minutes". */
export const EXPLORE_TTL_MS = 10 * 60 * 1000

interface Entry {
  value: unknown
  storedAt: number
  registries: readonly string[]
}

/** What a cached read produced. */
export interface CachedRead<T> {
  /** The result; null when the database failed and nothing was cached for the query. */
  value: T | null
  /** `fresh` within TTL, `loaded` from the database now, `stale` served because the database failed, `unavailable` nothing at all. */
  state: 'fresh' | 'loaded' | 'stale' | 'unavailable'
  /** The database error, when there was one. */
  error?: unknown
}

export class ExploreCache {
  readonly #entries = new Map<string, Entry>()

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = EXPLORE_TTL_MS,
    /** Bound on entries: search strings are arbitrary, so the key space is not. Oldest go first. */
    private readonly maxEntries = 2000,
  ) {}

  get size(): number {
    return this.#entries.size
  }

  /**
   * The cached value of `key` while fresh; otherwise `load()` and keep its result. When `load()`
   * throws, an expired entry is served instead (stale-on-failure); without one the read is
   * `unavailable`.
   */
  async read<T>(key: string, registries: readonly string[], load: () => Promise<T>): Promise<CachedRead<T>> {
    const now = this.clock.now()
    const hit = this.#entries.get(key)
    if (hit && now - hit.storedAt < this.ttlMs) return { value: hit.value as T, state: 'fresh' }
    let value: T
    try {
      value = await load()
    } catch (error) {
      // An invalidation while the database is down removed the entry: there is nothing stale left.
      const stale = this.#entries.get(key)
      if (stale) return { value: stale.value as T, state: 'stale', error }
      return { value: null, state: 'unavailable', error }
    }
    this.#entries.delete(key) // re-insert: Map order is the eviction order
    this.#entries.set(key, { value, storedAt: this.clock.now(), registries: [...registries] })
    while (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    return { value, state: 'loaded' }
  }

  /** Drops every entry that covers `registry`, or everything. Returns how many entries went. */
  invalidate(registry?: string): number {
    if (registry === undefined) {
      const n = this.#entries.size
      this.#entries.clear()
      return n
    }
    let n = 0
    for (const [key, entry] of this.#entries) {
      if (entry.registries.includes(registry)) {
        this.#entries.delete(key)
        n++
      }
    }
    return n
  }
}
