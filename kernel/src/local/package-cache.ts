/**
 * A short-lived in-process cache of {@link LocalPackageInfo} by (registry, normalised name), so
 * plain reads (a checksum, an index line, one version) do not cost the four queries of loading a
 * package. It caches the package, never a visibility decision: the caller checks the identity on
 * every read. Every mutation of a package forgets it; the short TTL bounds how long another
 * replica's writes can stay unseen. A generation counter keeps a read that raced a mutation from
 * storing what it loaded before the write.
 */
import type { LocalPackageInfo } from '@batlehub/sdk'
import { Lru } from '../storage/lru.ts'

export interface PackageCacheOptions {
  /** Packages kept; default 1000. */
  max?: number
  /** Lifetime of an entry in ms; default 30 s. */
  ttlMs?: number
  now?: () => number
}

export class PackageCache {
  private readonly lru: Lru<string, LocalPackageInfo>
  private generation = 0

  constructor(options: PackageCacheOptions = {}) {
    this.lru = new Lru(options.max ?? 1000, options.ttlMs ?? 30_000, options.now ?? Date.now)
  }

  get(registry: string, normalized: string): LocalPackageInfo | undefined {
    return this.lru.get(`${registry}\0${normalized}`)
  }

  /** A token to pass to {@link PackageCache.set} after loading: taken before the queries run. */
  begin(): number {
    return this.generation
  }

  /** Stores a loaded package unless a mutation happened since `begin()`. */
  set(registry: string, normalized: string, info: LocalPackageInfo, token: number): void {
    if (token === this.generation) this.lru.set(`${registry}\0${normalized}`, info)
  }

  /** Forgets a package after a mutation (and any load running meanwhile). */
  forget(registry: string, normalized: string): void {
    this.generation++
    this.lru.delete(`${registry}\0${normalized}`)
  }

  get size(): number {
    return this.lru.size
  }
}
