/**
 * The explorer's database reads (seed package-explorer "Data sources"): proxied packages from
 * `package_statuses`, hosted ones from `local_packages`/`local_versions`, firewall state from
 * `blocked_packages`, beta membership from `beta_channel_members`.
 *
 * @remarks
 * One row per (registry, package name). A version is *local* when `local_versions` has it and
 * *proxied* otherwise, so download accounting that the local store may also write to
 * `package_statuses` never turns a hosted package into "both". Filtering, sorting and paging run
 * in SQL (the same statements on SQLite and PostgreSQL) so a catalog of tens of thousands of
 * packages is never loaded into memory.
 */
import type { Identity } from '@batlehub/sdk'
import type { Database } from '../db/orm.ts'
import { compareVersions, isPrerelease } from './versions.ts'

export type ExploreSort = 'downloads' | 'name' | 'recent'
export type PackageSource = 'proxied' | 'local' | 'both'

/** A catalog row, in the seed's JSON shape. */
export interface ExplorePackage {
  registry: string
  name: string
  version_count: number
  total_downloads: number
  last_accessed: string | null
  source: PackageSource
  has_blocked: boolean
}

export interface RegistryStats {
  registry: string
  package_count: number
  total_downloads: number
}

export type Firewall =
  | { status: 'clear' }
  | { status: 'yanked'; reason?: string | null }
  | { status: 'blocked'; reason: string | null; blocked_by: string | null; blocked_at: string | null }

/** A version row of the detail page, in the seed's JSON shape. */
export interface ExploreVersion {
  version: string
  source: 'proxied' | 'local'
  firewall: Firewall
  download_count: number
  last_accessed: string | null
  published_at: string | null
  is_prerelease: boolean
}

export interface PackageVersions {
  registry: string
  name: string
  versions: ExploreVersion[]
}

/** Which local packages an identity may see (seed "Package visibility"). */
interface Clause {
  sql: string
  params: unknown[]
}

/** Dates come back as Date (PostgreSQL), epoch milliseconds (SQLite) or strings. */
export function toIso(v: unknown): string | null {
  if (v === null || v === undefined) return null
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString()
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN
  const d = Number.isNaN(n) ? new Date(String(v)) : new Date(n)
  return Number.isNaN(d.getTime()) ? null : d.toISOString()
}

/** PostgreSQL returns sums and counts as strings (bigint/numeric). */
function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v ?? 0)
  return Number.isFinite(n) ? n : 0
}

function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === '1' || v === 't' || v === 'true'
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ')

/** `%needle%` for LIKE with `!` as the escape character (same on both dialects). */
export function likeContains(needle: string): string {
  return `%${needle.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`
}

export interface ExploreCatalogOptions {
  /** Whether the local store shows a `team` package to this identity. Without it, team packages are admins' only. */
  teamVisible?: (registry: string, name: string, identity: Identity) => Promise<boolean>
}

export class ExploreCatalog {
  constructor(private readonly db: Database, private readonly o: ExploreCatalogOptions = {}) {}

  private t(name: string): string {
    const schema = this.db.dialect === 'postgresql' && this.db.schema ? `"${this.db.schema.replace(/"/g, '')}".` : ''
    return `${schema}"${name}"`
  }

  /**
   * Local packages `identity` may see, as a condition on alias `p` (the local store's rule): admins
   * see everything, anonymous callers public packages, users public and internal ones plus the
   * `team` packages the local store shows them (their group owns the namespace, or they own the
   * package). Team packages are few; each is asked of the store so the rule lives in one place.
   */
  async visibility(identity: Identity, registries: readonly string[]): Promise<Clause> {
    if (identity.role === 'admin') return { sql: '1 = 1', params: [] }
    if (identity.role === 'anonymous') return { sql: `p.visibility = 'public'`, params: [] }
    const team = registries.length && this.o.teamVisible
      ? await this.db.execute(
        `select p.id, p.registry, p.name from ${this.t('local_packages')} p
         where p.registry in (${marks(registries.length)}) and p.visibility not in ('public', 'internal')`,
        [...registries],
      )
      : []
    const seen: unknown[] = []
    for (const row of team) {
      if (await this.o.teamVisible!(String(row.registry), String(row.name), identity).catch(() => false)) seen.push(row.id)
    }
    return {
      sql: `(p.visibility in ('public', 'internal')${seen.length ? ` or p.id in (${marks(seen.length)})` : ''})`,
      params: seen,
    }
  }

  /** The CTE `pkgs(registry, name, proxied_versions, local_versions, is_local, total_downloads, last_accessed)`. */
  private async packagesCte(o: { registries: readonly string[]; name?: string; identity: Identity }): Promise<Clause> {
    const reg = marks(o.registries.length)
    const vis = await this.visibility(o.identity, o.registries)
    // The local store counts downloads under the normalised name: a status row of a hosted package
    // (matched by either name) belongs to that package's row, under its display name.
    const like = o.name ? likeContains(o.name) : undefined
    const sql = `with hidden as (
        select p.registry, p.name from ${this.t('local_packages')} p
        where p.registry in (${reg}) and not (${vis.sql})
      ),
      entries as (
        select s.registry as registry, coalesce(lp.name, s.package_name) as name, coalesce(lp.normalized_name, s.package_name) as norm,
          case when lv.id is null then 1 else 0 end as proxied_versions,
          0 as local_versions, 0 as is_local,
          s.download_count as downloads, s.last_accessed_at as last_accessed
        from ${this.t('package_statuses')} s
        left join ${this.t('local_packages')} lp on lp.registry = s.registry and s.package_name in (lp.name, lp.normalized_name)
        left join ${this.t('local_versions')} lv on lv.package_id = lp.id and lv.version = s.package_version
        where s.registry in (${reg})${like ? ` and lower(s.package_name) like ? escape '!'` : ''}
        union all
        select p.registry, p.name, p.normalized_name, 0,
          (select count(*) from ${this.t('local_versions')} v where v.package_id = p.id), 1, 0, null
        from ${this.t('local_packages')} p
        where p.registry in (${reg})${like ? ` and lower(p.name) like ? escape '!'` : ''} and (${vis.sql})
      ),
      pkgs as (
        select e.registry, e.name, max(e.norm) as norm, sum(e.proxied_versions) as proxied_versions, sum(e.local_versions) as local_versions,
          max(e.is_local) as is_local, sum(e.downloads) as total_downloads, max(e.last_accessed) as last_accessed
        from entries e
        where not exists (select 1 from hidden h where h.registry = e.registry and h.name = e.name)
        group by e.registry, e.name
      )`
    const params = [
      ...o.registries, ...vis.params,
      ...o.registries, ...(like ? [like] : []),
      ...o.registries, ...(like ? [like] : []), ...vis.params,
    ]
    return { sql, params }
  }

  /** One page of the catalog and the number of matching packages. */
  async listPackages(o: {
    registries: readonly string[]
    name?: string
    sort: ExploreSort
    page: number
    perPage: number
    identity: Identity
  }): Promise<{ items: ExplorePackage[]; total: number }> {
    if (o.registries.length === 0) return { items: [], total: 0 }
    const cte = await this.packagesCte(o)
    // Byte order on both dialects: PostgreSQL's default collation would otherwise skip punctuation
    // (`@types/node` sorting as "typesnode").
    const c = this.db.dialect === 'postgresql' ? ' collate "C"' : ''
    const byName = `lower(k.name)${c} asc, k.name${c} asc, k.registry asc`
    const order =
      o.sort === 'name' ? byName
        : o.sort === 'recent' ? `case when k.last_accessed is null then 1 else 0 end, k.last_accessed desc, ${byName}`
          : `k.total_downloads desc, ${byName}`
    const rows = await this.db.execute(
      `${cte.sql}
      select k.registry, k.name, k.proxied_versions, k.local_versions, k.is_local, k.total_downloads, k.last_accessed,
        case when exists (select 1 from ${this.t('blocked_packages')} b where b.registry = k.registry and b.package_name in (k.name, k.norm)) then 1 else 0 end as has_blocked
      from pkgs k
      order by ${order}
      limit ? offset ?`,
      [...cte.params, o.perPage, o.page * o.perPage],
    )
    const [count] = await this.db.execute<{ n: unknown }>(`${cte.sql} select count(*) as n from pkgs`, cte.params)
    return {
      total: num(count?.n),
      items: rows.map((r) => {
        const proxied = num(r.proxied_versions)
        const local = truthy(r.is_local) || num(r.is_local) > 0
        return {
          registry: String(r.registry),
          name: String(r.name),
          version_count: proxied + num(r.local_versions),
          total_downloads: num(r.total_downloads),
          last_accessed: toIso(r.last_accessed),
          source: local ? (proxied > 0 ? 'both' : 'local') : 'proxied',
          has_blocked: truthy(r.has_blocked),
        } satisfies ExplorePackage
      }),
    }
  }

  /** Package counts and download totals of registries that hold at least one package. */
  async registryStats(o: { registries: readonly string[]; identity: Identity }): Promise<RegistryStats[]> {
    if (o.registries.length === 0) return []
    const cte = await this.packagesCte(o)
    const rows = await this.db.execute(
      `${cte.sql} select k.registry, count(*) as package_count, sum(k.total_downloads) as total_downloads
      from pkgs k group by k.registry order by k.registry`,
      cte.params,
    )
    return rows.map((r) => ({ registry: String(r.registry), package_count: num(r.package_count), total_downloads: num(r.total_downloads) }))
  }

  /**
   * Every known version of a package, newest first, with per-version firewall state; null when the
   * registry has no such package (or the caller may not see it).
   *
   * @param names - the name as requested and its normalised form (`Requests` and `requests`).
   */
  async packageVersions(o: { registry: string; names: readonly string[]; identity: Identity }): Promise<PackageVersions | null> {
    const names = [...new Set(o.names)]
    const local = await this.db.execute(
      `select p.id, p.name, p.normalized_name, p.visibility from ${this.t('local_packages')} p
       where p.registry = ? and (p.name in (${marks(names.length)}) or p.normalized_name in (${marks(names.length)}))`,
      [o.registry, ...names, ...names],
    )
    const pkg = local[0]
    if (pkg) {
      const vis = await this.visibility(o.identity, [o.registry])
      const visible = await this.db.execute(`select 1 as ok from ${this.t('local_packages')} p where p.id = ? and (${vis.sql})`, [pkg.id, ...vis.params])
      if (visible.length === 0) return null
    }
    const canonical = pkg ? String(pkg.name) : undefined
    const proxiedNames = pkg ? [...new Set([String(pkg.name), String(pkg.normalized_name), ...names])] : names
    const proxied = await this.db.execute(
      `select s.package_name, s.package_version, s.download_count, s.last_accessed_at, s.published_at
       from ${this.t('package_statuses')} s where s.registry = ? and s.package_name in (${marks(proxiedNames.length)})`,
      [o.registry, ...proxiedNames],
    )
    if (!pkg && proxied.length === 0) return null
    const name = canonical ?? String(proxied.find((r) => r.package_name === names[0])?.package_name ?? proxied[0]!.package_name)
    const localVersions = pkg
      ? await this.db.execute(
        `select v.version, v.prerelease, v.published_at, v.yanked, v.yank_reason from ${this.t('local_versions')} v where v.package_id = ?`,
        [pkg.id],
      )
      : []
    const blocks = await this.db.execute(
      `select b.version, b.reason, b.blocked_by, b.blocked_at from ${this.t('blocked_packages')} b
       where b.registry = ? and b.package_name in (${marks(proxiedNames.length)})`,
      [o.registry, ...proxiedNames],
    )
    const blocked = new Map(blocks.map((b) => [String(b.version), b]))
    const byVersion = new Map<string, ExploreVersion>()
    for (const v of localVersions) {
      const version = String(v.version)
      byVersion.set(version, {
        version,
        source: 'local',
        firewall: truthy(v.yanked) ? { status: 'yanked', reason: (v.yank_reason as string | null) ?? null } : { status: 'clear' },
        download_count: 0,
        last_accessed: null,
        published_at: toIso(v.published_at),
        is_prerelease: truthy(v.prerelease) || isPrerelease(version),
      })
    }
    for (const r of proxied) {
      const version = String(r.package_version)
      const known = byVersion.get(version)
      const downloads = num(r.download_count)
      const last = toIso(r.last_accessed_at)
      if (known) {
        // The local store's download accounting for a hosted version.
        known.download_count += downloads
        if (last && (!known.last_accessed || last > known.last_accessed)) known.last_accessed = last
        continue
      }
      byVersion.set(version, {
        version,
        source: 'proxied',
        firewall: { status: 'clear' },
        download_count: downloads,
        last_accessed: last,
        published_at: toIso(r.published_at),
        is_prerelease: isPrerelease(version),
      })
    }
    for (const v of byVersion.values()) {
      const b = blocked.get(v.version) ?? blocked.get('*')
      if (b) {
        v.firewall = {
          status: 'blocked',
          reason: (b.reason as string | null) ?? null,
          blocked_by: (b.blocked_by as string | null) ?? null,
          blocked_at: toIso(b.blocked_at),
        }
      }
    }
    const versions = [...byVersion.values()].sort((a, b) => compareVersions(b.version, a.version))
    return { registry: o.registry, name, versions }
  }

  /** Whether the identity is a member of the registry's beta channel (as a user or through a group). */
  async isBetaMember(registry: string, identity: Identity): Promise<boolean> {
    if (identity.role === 'anonymous') return false
    const groups = identity.groups
    const rows = await this.db.execute(
      `select 1 as ok from ${this.t('beta_channel_members')} m where m.registry = ?
       and ((m.principal_type = 'user' and m.principal_id = ?)${groups.length ? ` or (m.principal_type = 'group' and m.principal_id in (${marks(groups.length)}))` : ''})`,
      [registry, identity.userId, ...groups],
    )
    return rows.length > 0
  }

  /** Of `names`, those the registry already holds (proxied or local), compared lower-cased. */
  async cachedNames(registry: string, names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set()
    const lowered = [...new Set(names.map((n) => n.toLowerCase()))]
    const rows = await this.db.execute<{ name: string }>(
      `select s.package_name as name from ${this.t('package_statuses')} s where s.registry = ? and lower(s.package_name) in (${marks(lowered.length)})
       union select p.name as name from ${this.t('local_packages')} p where p.registry = ? and lower(p.name) in (${marks(lowered.length)})`,
      [registry, ...lowered, registry, ...lowered],
    )
    return new Set(rows.map((r) => String(r.name).toLowerCase()))
  }
}
