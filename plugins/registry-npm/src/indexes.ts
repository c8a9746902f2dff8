/**
 * The tarball index of proxied packages: for each package, version → upstream tarball URL and
 * digests, taken from the upstream packument when it is fetched (the stored packument only has hub
 * URLs). Kept in memory (LRU) and in the registry's records, so a tarball request never parses a
 * packument, and a restarted hub still knows where tarballs come from while the upstream is down.
 */
import type { LoggerService, RecordService } from '@batlehub/sdk'
import { keyPath, type PackageName } from './names.ts'
import { lookupTarball, type CompactIndex, type TarballRef } from './metadata.ts'

const COLLECTION = 'tarball-index'

export interface TarballIndexes {
  /** Replaces the index of a package (after an upstream fetch). */
  update(name: PackageName, index: CompactIndex): Promise<void>
  /** The ref of a version from memory or records; undefined when the package has no index yet. */
  find(name: PackageName, version: string): Promise<TarballRef | null | undefined>
  /** Whether an index of the package is loaded or stored. */
  has(name: PackageName): Promise<boolean>
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
    async update(name, index) {
      const key = keyPath(name)
      remember(key, index)
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
    async has(name) {
      return (await load(name)) !== undefined
    },
    forget(name) {
      mem.delete(keyPath(name))
    },
  }
}
