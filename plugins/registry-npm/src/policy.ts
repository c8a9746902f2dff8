/**
 * Version filtering by the kernel's policy engine (blocklist, release age gate, deny_latest):
 * packuments leave out the versions the caller may not download and move `dist-tags` accordingly
 * (`latest` to the previous allowed version; removed under deny_latest), so that npm, pnpm and yarn
 * resolve to an allowed version instead of failing on the tarball.
 *
 * Hot path: when nothing applies to a package for this caller (`mayFilter`, the common case) the
 * cached packument is served untouched, never parsed. Otherwise the version list is read once per
 * stored body and a filtered copy is rendered once per policy outcome (the fingerprint).
 *
 * Abbreviated packuments carry no publish times, so when an age gate applies to the caller they are
 * read from the full packument (cached like any other).
 */
import type { Identity, MetadataEntry, VersionSummary } from '@batlehub/sdk'
import type { PackumentForm } from './accept.ts'
import type { PackageName } from './names.ts'
import type { NpmService } from './service.ts'

type Json = Record<string, any>

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** SemVer 2.0 precedence (npm versions are always valid SemVer); build metadata is ignored. */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('+')[0]!.split(/-(.*)/s)
    return { nums: core.split('.').map((n) => Number(n)), pre: pre === undefined || pre === '' ? [] : pre.split('.') }
  }
  const x = parse(a)
  const y = parse(b)
  for (let i = 0; i < 3; i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0)
    if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1
  }
  if (!x.pre.length || !y.pre.length) return x.pre.length === y.pre.length ? 0 : x.pre.length ? -1 : 1
  for (let i = 0; i < Math.max(x.pre.length, y.pre.length); i++) {
    const p = x.pre[i]
    const q = y.pre[i]
    if (p === undefined) return -1
    if (q === undefined) return 1
    if (p === q) continue
    const pn = /^\d+$/.test(p)
    const qn = /^\d+$/.test(q)
    if (pn && qn) return Number(p) < Number(q) ? -1 : 1
    if (pn !== qn) return pn ? -1 : 1
    return p < q ? -1 : 1
  }
  return 0
}

interface Listing {
  /** Newest first by SemVer precedence. */
  readonly versions: readonly string[]
  readonly times: ReadonlyMap<string, string>
  readonly tags: Readonly<Record<string, string>>
}

/** The version list of a stored packument body, read once per body. */
const listings = new WeakMap<Buffer, Listing>()
/** Version summaries per body, with the full body that supplied their publish times. */
const summaries = new WeakMap<Buffer, { times: Buffer | null; versions: VersionSummary[] }>()
/** Filtered copies per body and policy fingerprint. */
const renders = new WeakMap<Buffer, Map<string, MetadataEntry>>()

function listingOf(body: Buffer): Listing {
  let l = listings.get(body)
  if (!l) {
    const doc = JSON.parse(body.toString('utf8')) as Json
    const times = new Map<string, string>()
    if (isObject(doc.time)) for (const [k, v] of Object.entries(doc.time)) if (typeof v === 'string') times.set(k, v)
    const tags: Record<string, string> = {}
    if (isObject(doc['dist-tags'])) for (const [k, v] of Object.entries(doc['dist-tags'])) if (typeof v === 'string') tags[k] = v
    l = { versions: Object.keys(isObject(doc.versions) ? doc.versions : {}).sort(compareSemver).reverse(), times, tags }
    listings.set(body, l)
  }
  return l
}

export class NpmPolicy {
  private readonly svc: NpmService

  constructor(svc: NpmService) {
    this.svc = svc
  }

  /** Publish times of a package's versions, from its full packument (cached). */
  private async times(name: PackageName, identity: Identity, signal?: AbortSignal): Promise<{ body: Buffer; times: ReadonlyMap<string, string> }> {
    const full = await this.svc.packumentEntry(name, 'full', identity, signal)
    return { body: full.body, times: listingOf(full.body).times }
  }

  /**
   * The publish time of a version when an age gate applies to the caller (the tarball download
   * check needs it); undefined otherwise, without any lookup.
   */
  async publishedAt(name: PackageName, version: string, identity: Identity, signal?: AbortSignal): Promise<string | undefined> {
    if (this.svc.ctx.policy.minReleaseAgeSecs(identity) <= 0) return undefined
    try {
      return (await this.times(name, identity, signal)).times.get(version)
    } catch (err) {
      // No packument, no time: the gate is skipped for this download (and the audit entry says so).
      if ((err as { code?: string }).code === 'BH_NOT_FOUND') return undefined
      throw err
    }
  }

  /** The packument entry to serve to this caller: the very same entry when nothing applies. */
  async entryFor(entry: MetadataEntry, name: PackageName, form: PackumentForm, identity: Identity, signal?: AbortSignal): Promise<MetadataEntry> {
    const policy = this.svc.ctx.policy
    if (!policy.mayFilter({ identity, name: name.name })) return entry
    const listing = listingOf(entry.body)
    let timesBody: Buffer | null = null
    let times = listing.times
    if (form === 'abbreviated' && policy.minReleaseAgeSecs(identity) > 0) {
      const t = await this.times(name, identity, signal)
      timesBody = t.body
      times = t.times
    }
    let s = summaries.get(entry.body)
    if (!s || s.times !== timesBody) {
      s = {
        times: timesBody,
        versions: listing.versions.map((version) => ({
          version,
          ...(times.get(version) ? { publishedAt: times.get(version)! } : {}),
          prerelease: /^[^+]*-/.test(version),
        })),
      }
      summaries.set(entry.body, s)
    }
    const f = policy.filterVersions({ identity, name: name.name, versions: s.versions, tags: listing.tags })
    if (!f.changed) return entry
    let byFingerprint = renders.get(entry.body)
    if (!byFingerprint) renders.set(entry.body, (byFingerprint = new Map()))
    let filtered = byFingerprint.get(f.fingerprint)
    if (!filtered) {
      const doc = JSON.parse(entry.body.toString('utf8')) as Json
      for (const d of f.denied) {
        if (isObject(doc.versions)) delete doc.versions[d.version]
        if (isObject(doc.time)) delete doc.time[d.version]
      }
      doc['dist-tags'] = { ...f.tags }
      filtered = { ...entry, key: `${entry.key}#policy-${f.fingerprint}`, body: Buffer.from(JSON.stringify(doc)) }
      byFingerprint.set(f.fingerprint, filtered)
    }
    return filtered
  }
}
