/**
 * The tarball index of proxied packages: for each package, version → upstream tarball URL and
 * digests, taken from the upstream packument when it is fetched (the stored packument only has hub
 * URLs). Kept in memory (LRU), so a tarball request never parses a packument.
 *
 * Persistence: when every tarball URL of a package is the canonical
 * `{upstream}/{name}/-/{bare}-{version}.tgz` (the public registry, Verdaccio, most mirrors), the
 * stored packument alone rebuilds the index after a restart, so nothing is written (a database
 * write per packument fetch cost a cold install more than the fetch itself). Only packages with
 * other tarball URLs keep their index in the registry's records, so a restarted hub still knows
 * where those come from while the upstream is down.
 */
import type { LoggerService, RecordService } from '@batlehub/sdk'
import { keyPath, type PackageName } from './names.ts'
import { lookupTarball, type CompactIndex, type TarballRef } from './metadata.ts'

const COLLECTION = 'tarball-index'

export interface TarballIndexes {
  /**
   * Replaces the index of a package (after an upstream fetch). It is written to the records only
   * when it holds non-canonical URLs, unless `persist` is false.
   */
  update(name: PackageName, index: CompactIndex, options?: { persist?: boolean }): Promise<void>
  /** The ref of a version from memory or records; undefined when the package has no index yet. */
  find(name: PackageName, version: string): Promise<TarballRef | null | undefined>
  /** The index of a package from memory or records. */
  get(name: PackageName): Promise<CompactIndex | undefined>
  /** Forgets a package (tests, invalidation). */
  forget(name: PackageName): void
}

export function createTarballIndexes(o: { records: RecordService; maxPackages: number; log: LoggerService }): TarballIndexes {
  const mem = new Map<string, CompactIndex>()
  const remember = (key: string, index: CompactIndex) => {
    mem.delete(key)
    mem.set(key, index)
    while (mem.size > o.maxPackages) mem.delete(mem.keys().next().value!)
  }
  const load = async (name: PackageName): Promise<CompactIndex | undefined> => {
    const key = keyPath(name)
    const hit = mem.get(key)
    if (hit) {
      // LRU: move to the end.
      mem.delete(key)
      mem.set(key, hit)
      return hit
    }
    try {
      const stored = await o.records.get<CompactIndex>(COLLECTION, key)
      if (stored && typeof stored === 'object' && typeof stored.u === 'string' && stored.v && typeof stored.v === 'object') {
        remember(key, stored)
        return stored
      }
    } catch (err) {
      o.log.warn('npm tarball index read failed', { package: name.name, err: (err as Error).message })
    }
    return undefined
  }
  return {
    async update(name, index, options = {}) {
      const key = keyPath(name)
      remember(key, index)
      if (options.persist === false || !Object.values(index.v).some((e) => e.length === 3)) return
      try {
        await o.records.put(COLLECTION, key, index)
      } catch (err) {
        // The memory copy still serves; a restart re-derives the index from the packument.
        o.log.warn('npm tarball index write failed', { package: name.name, err: (err as Error).message })
      }
    },
    async find(name, version) {
      const index = await load(name)
      if (!index) return undefined
      return lookupTarball(index, name, version)
    },
    get(name) {
      return load(name)
    },
    forget(name) {
      mem.delete(keyPath(name))
    },
  }
}
