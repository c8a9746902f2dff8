/**
 * The registry's view of a crate across modes: local crates first, the upstream for the rest, and
 * (hybrid) a local name never mixed with upstream versions unless `hybrid_merge_upstream` says so.
 */
import {
  ANONYMOUS, type ArtifactRequest, type Identity, type LocalPackageInfo, type RegistryContext, type VersionSummary,
} from '@batlehub/sdk'
import semver from 'semver'
import type { CargoConfig } from './config.ts'
import { crateFile, localIndexLines } from './local.ts'
import { findVersion, formatIndexFile, mergeIndexFiles, type IndexLine, type ParsedIndexLine } from './metadata.ts'
import { isPrerelease, normalizeCrateName, versionKey } from './names.ts'
import { CargoUpstream, type UpstreamIndex } from './upstream.ts'

/** Where a crate's versions come from for one request. */
export type CrateSource =
  | { kind: 'local'; pkg: LocalPackageInfo; lines: IndexLine[]; upstream: UpstreamIndex | null }
  | { kind: 'hidden' }
  | { kind: 'upstream'; upstream: UpstreamIndex }
  | { kind: 'absent' }

/** Newest first, by SemVer precedence; unparsable versions last. */
export function byVersionDesc(a: string, b: string): number {
  const va = semver.valid(a)
  const vb = semver.valid(b)
  if (va && vb) return semver.rcompare(va, vb)
  if (va) return -1
  if (vb) return 1
  return a < b ? 1 : a > b ? -1 : 0
}

export class CargoService {
  readonly ctx: RegistryContext<CargoConfig>
  readonly upstream: CargoUpstream

  constructor(ctx: RegistryContext<CargoConfig>) {
    this.ctx = ctx
    this.upstream = new CargoUpstream(ctx)
  }

  get mode(): 'proxy' | 'local' | 'hybrid' {
    return this.ctx.registry.mode
  }

  /** Whether anonymous callers cannot read the index: cargo must then send its token everywhere. */
  authRequired(): boolean {
    return !this.ctx.policy.can(ANONYMOUS, 'releases:read')
  }

  /**
   * Resolves a crate for a caller. A local crate the caller may not see is `hidden` — never an
   * upstream fallback, which would hand a private name to whoever publishes it upstream.
   */
  async resolve(name: string, identity: Identity | undefined, signal?: AbortSignal): Promise<CrateSource> {
    if (this.mode !== 'proxy' && (await this.ctx.packages.exists(name))) {
      const pkg = await this.ctx.packages.getPackage(name, identity ? { identity } : undefined)
      if (!pkg) return { kind: 'hidden' }
      const merge = this.mode === 'hybrid' && this.ctx.registry.hybridMergeUpstream
      const upstream = merge ? await this.upstream.index(name, signal).catch(() => null) : null
      return { kind: 'local', pkg, lines: localIndexLines(pkg), upstream }
    }
    if (this.mode === 'local') return { kind: 'absent' }
    const upstream = await this.upstream.index(name, signal)
    return upstream && upstream.lines.length ? { kind: 'upstream', upstream } : { kind: 'absent' }
  }

  /** The index file body of a local (possibly merged) crate. */
  localIndexBody(source: Extract<CrateSource, { kind: 'local' }>): string {
    return source.upstream ? mergeIndexFiles(source.lines, source.upstream.lines) : formatIndexFile(source.lines)
  }

  /** The cache request of an upstream `.crate`, verified against the index checksum. */
  async artifactRequest(upstream: UpstreamIndex, line: IndexLine, signal?: AbortSignal): Promise<ArtifactRequest> {
    const lower = normalizeCrateName(line.name)
    const url = await this.upstream.downloadUrl(upstream.entry.upstream, line.name, line.vers, line.cksum, signal)
    return {
      key: `crates/${lower}/${lower}-${line.vers}.crate`,
      name: line.name,
      version: line.vers,
      upstream: { url, signal },
      expect: { sha256: line.cksum },
      contentType: 'application/gzip',
      ...(line.pubtime ? { publishedAt: line.pubtime } : {}),
    }
  }

  /** Every version of a crate, newest first (the `listVersions` hook). */
  async listVersions(name: string, signal?: AbortSignal): Promise<VersionSummary[] | null> {
    const source = await this.resolve(name, undefined, signal)
    if (source.kind === 'absent' || source.kind === 'hidden') return null
    const out: VersionSummary[] = []
    const seen = new Set<string>()
    if (source.kind === 'local') {
      for (const v of source.pkg.versions) {
        seen.add(versionKey(v.version))
        out.push({ version: v.version, publishedAt: v.publishedAt, prerelease: v.prerelease, yanked: v.yanked })
      }
    }
    const upstream = source.kind === 'local' ? source.upstream : source.upstream
    if (upstream) {
      const rest = upstream.lines.filter((l) => !seen.has(versionKey(l.line.vers)))
      // The index carries `pubtime` on recent crates.io lines; older ones need the web API.
      const times = rest.some((l) => !l.line.pubtime) ? await this.upstream.publishTimes(name, signal) : new Map<string, string>()
      for (const { line } of rest) {
        const publishedAt = line.pubtime ?? times.get(line.vers)
        out.push({ version: line.vers, ...(publishedAt ? { publishedAt } : {}), prerelease: isPrerelease(line.vers), yanked: line.yanked === true })
      }
    }
    return out.sort((a, b) => byVersionDesc(a.version, b.version))
  }

  /** The artifacts of one version, for warming: none for local versions (nothing to fetch). */
  async artifactsFor(name: string, version: string, signal?: AbortSignal): Promise<ArtifactRequest[]> {
    const source = await this.resolve(name, undefined, signal)
    if (source.kind === 'local') {
      if (source.pkg.versions.some((v) => versionKey(v.version) === versionKey(version)) || !source.upstream) return []
      const found = findVersion(source.upstream.lines, version)
      return found ? [await this.artifactRequest(source.upstream, found.line, signal)] : []
    }
    if (source.kind !== 'upstream') return []
    const found = findVersion<ParsedIndexLine>(source.upstream.lines, version)
    return found ? [await this.artifactRequest(source.upstream, found.line, signal)] : []
  }

  /** Highest non-yanked version (crates.io's `max_version`), and the highest stable one. */
  static maxVersions(pkg: LocalPackageInfo): { max?: string; stable?: string; newest?: string } {
    const live = pkg.versions.filter((v) => !v.yanked && crateFile(v)).map((v) => v.version).sort(byVersionDesc)
    return { max: live[0], stable: live.find((v) => !isPrerelease(v)), newest: pkg.versions[0]?.version }
  }
}
