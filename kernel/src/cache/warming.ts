/**
 * Cache warming (seed "Cache warming"): `name` warms the newest `warm_latest_n` versions the
 * plugin's `listVersions` hook reports, `name@version` exactly one; each version's artifacts come
 * from the plugin's `artifactsFor` hook and are fetched with `prefetch` (the same single-flight as
 * client downloads), at most `warm_concurrency` at a time.
 */
import { InputError, NotFoundError, NotImplementedError, type VersionSummary } from '@batlehub/sdk'
import type { RegistryCache } from './engine.ts'

/** Seed response shape: versions fetched, versions already cached, versions that failed. */
export interface WarmResult {
  warmed: number
  skipped: number
  errors: number
}

/** Splits `name@version`; an `@` in first position belongs to the name (npm scopes). */
export function parseWarmSpec(spec: string): { name: string; version?: string } {
  const at = spec.lastIndexOf('@')
  if (at <= 0) return { name: spec }
  const name = spec.slice(0, at)
  const version = spec.slice(at + 1)
  if (!version) throw new InputError(`package "${spec}": empty version after "@"`)
  return { name, version }
}

/** The newest `n` installable versions: not yanked, and releases before pre-releases. */
export function pickVersions(list: readonly VersionSummary[], n: number): string[] {
  const live = list.filter((v) => !v.yanked)
  const releases = live.filter((v) => !v.prerelease)
  // A package with only pre-releases still gets warmed.
  return (releases.length ? releases : live).slice(0, n).map((v) => v.version)
}

/** Runs tasks with at most `limit` at a time. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0
  const queue: Array<() => void> = []
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => queue.push(resolve))
    active++
    try {
      return await task()
    } finally {
      active--
      queue.shift()?.()
    }
  }
}

export async function warmPackage(
  engine: RegistryCache,
  spec: string,
  options: { versions: number; concurrency: number; signal?: AbortSignal },
): Promise<WarmResult> {
  const { name, version } = parseWarmSpec(spec)
  const hooks = engine.hooks()
  const type = engine.config.type
  if (engine.config.mode === 'local') throw new InputError(`registry ${engine.name} is in local mode: nothing to warm from an upstream`)
  if (!Number.isInteger(options.versions) || options.versions < 1) throw new InputError('versions must be a positive integer')
  let versions: string[]
  if (version !== undefined) {
    versions = [version]
  } else {
    if (!hooks.listVersions) {
      throw new NotImplementedError(`registry type ${type} cannot list versions; warm a pinned version ("${name}@<version>")`)
    }
    const list = await hooks.listVersions(name, { signal: options.signal })
    if (!list) throw new NotFoundError(`package ${name} not found in registry ${engine.name}`)
    versions = pickVersions(list, options.versions)
  }
  if (!hooks.artifactsFor) throw new NotImplementedError(`registry type ${type} cannot list the artifacts of a version`)
  const artifactsFor = hooks.artifactsFor
  const run = limiter(Math.max(1, options.concurrency))
  const result: WarmResult = { warmed: 0, skipped: 0, errors: 0 }
  await Promise.all(versions.map(async (v) => {
    try {
      options.signal?.throwIfAborted()
      const artifacts = await artifactsFor(name, v, { signal: options.signal })
      if (!artifacts.length) throw new NotFoundError(`${name}@${v} has no artifacts`)
      const outcomes = await Promise.all(artifacts.map((a) => run(async () => {
        options.signal?.throwIfAborted()
        return engine.prefetch(a)
      })))
      if (outcomes.every((o) => o === 'cached')) result.skipped++
      else result.warmed++
    } catch (err) {
      result.errors++
      engine.log.warn('cannot warm a version', { package: name, version: v, error: (err as Error).message })
    }
  }))
  return result
}
