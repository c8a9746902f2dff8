/**
 * The blocklist (seed "Block a package version"): blocked versions answer 403 to everyone, admins
 * included, and disappear from version listings.
 *
 * Rows live in `blocked_packages`, keyed by the registry's normalised package name. Every replica
 * keeps the whole list in memory (it is small: versions an administrator named), so the download
 * check is three map lookups. A change writes a new random generation token to `system_kv` in the
 * same transaction; replicas on PostgreSQL poll that one row and reload the list when it changed,
 * so a block reaches every replica within the poll interval.
 */
import { randomBytes } from 'node:crypto'
import type { Clock, LoggerService } from '@batlehub/sdk'
import { BlockedPackage, SystemKv } from '../db/entities.ts'
import type { Database } from '../db/orm.ts'

export const GENERATION_KEY = 'policy.blocklist.generation'

/** A blocked version, as the admin API shows it. */
export interface BlockInfo {
  readonly registry: string
  /** The registry's normalised form of the name. */
  readonly name: string
  readonly version: string
  readonly reason: string | null
  readonly blockedBy: string | null
  /** ISO-8601. */
  readonly blockedAt: string
}

export interface BlockInput {
  registry: string
  /** Normalised by the caller. */
  name: string
  version: string
  reason?: string | null
  blockedBy?: string | null
}

type Index = Map<string, Map<string, Map<string, BlockInfo>>>

function toIso(v: unknown): string {
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'number') return new Date(v).toISOString()
  return new Date(String(v)).toISOString()
}

function rowToInfo(r: { registry: string; packageName: string; version: string; reason?: string | null; blockedBy?: string | null; blockedAt: unknown }): BlockInfo {
  return Object.freeze({
    registry: r.registry, name: r.packageName, version: r.version,
    reason: r.reason ?? null, blockedBy: r.blockedBy ?? null, blockedAt: toIso(r.blockedAt),
  })
}

export class Blocklist {
  private index: Index = new Map()
  private generation: string | null = null
  private timer?: NodeJS.Timeout
  private polling?: Promise<void>

  constructor(private readonly db: Database, private readonly clock: Clock, private readonly log: LoggerService) {}

  /** Loads every block into memory. */
  async load(): Promise<void> {
    const generation = await this.readGeneration()
    const rows = await this.db.em().find(BlockedPackage, {}, { orderBy: { id: 'asc' } })
    const index: Index = new Map()
    for (const r of rows) add(index, rowToInfo(r))
    this.index = index
    this.generation = generation
  }

  /** Polls the generation row every `intervalMs` and reloads on change (for several replicas). */
  startPolling(intervalMs: number): void {
    this.stopPolling()
    this.timer = setInterval(() => {
      if (this.polling) return
      this.polling = this.poll().then(() => undefined, (err: unknown) => this.log.warn('blocklist refresh failed', { err: (err as Error).message })).finally(() => {
        this.polling = undefined
      })
    }, intervalMs)
    this.timer.unref()
  }

  async stopPolling(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.polling
  }

  /** Reloads when another replica changed the list. */
  async poll(): Promise<boolean> {
    const generation = await this.readGeneration()
    if (generation === this.generation) return false
    await this.load()
    return true
  }

  /** The block of one version, if any. */
  get(registry: string, name: string, version: string): BlockInfo | undefined {
    return this.index.get(registry)?.get(name)?.get(version)
  }

  /** Every blocked version of a package (undefined when none: the common case). */
  forPackage(registry: string, name: string): ReadonlyMap<string, BlockInfo> | undefined {
    return this.index.get(registry)?.get(name)
  }

  /** Number of blocked versions in memory. */
  get size(): number {
    let n = 0
    for (const pkgs of this.index.values()) for (const versions of pkgs.values()) n += versions.size
    return n
  }

  /**
   * Blocks versions (or updates the reason of existing blocks) in one transaction. Returns each
   * block and whether it is new.
   */
  async block(items: readonly BlockInput[]): Promise<Array<{ info: BlockInfo; created: boolean }>> {
    if (items.length === 0) return []
    const at = new Date(this.clock.now())
    const out: Array<{ info: BlockInfo; created: boolean }> = []
    await this.db.em().transactional(async (em) => {
      for (const item of items) {
        const existing = await em.findOne(BlockedPackage, { registry: item.registry, packageName: item.name, version: item.version })
        if (existing) {
          existing.reason = item.reason ?? existing.reason ?? null
          existing.blockedBy = item.blockedBy ?? existing.blockedBy ?? null
          existing.blockedAt = at
          out.push({ info: rowToInfo(existing), created: false })
        } else {
          const row = em.create(BlockedPackage, {
            registry: item.registry, packageName: item.name, version: item.version,
            reason: item.reason ?? null, blockedBy: item.blockedBy ?? null, blockedAt: at,
          })
          out.push({ info: rowToInfo(row), created: true })
        }
      }
      await em.flush()
      await this.bump(em)
    })
    for (const { info } of out) add(this.index, info)
    return out
  }

  /** Removes blocks; returns the ones that existed. */
  async unblock(items: ReadonlyArray<{ registry: string; name: string; version: string }>): Promise<BlockInfo[]> {
    const removed: BlockInfo[] = []
    await this.db.em().transactional(async (em) => {
      for (const item of items) {
        const row = await em.findOne(BlockedPackage, { registry: item.registry, packageName: item.name, version: item.version })
        if (!row) continue
        removed.push(rowToInfo(row))
        em.remove(row)
      }
      if (removed.length === 0) return
      await em.flush()
      await this.bump(em)
    })
    for (const info of removed) {
      const versions = this.index.get(info.registry)?.get(info.name)
      versions?.delete(info.version)
      if (versions && versions.size === 0) this.index.get(info.registry)!.delete(info.name)
    }
    return removed
  }

  /** Blocks from the database (the source of truth), newest first. */
  async list(filter: { registry?: string; name?: string; version?: string; limit?: number; offset?: number } = {}): Promise<{ total: number; items: BlockInfo[] }> {
    const where: Record<string, unknown> = {}
    if (filter.registry) where.registry = filter.registry
    if (filter.name) where.packageName = filter.name
    if (filter.version) where.version = filter.version
    const [rows, total] = await this.db.em().findAndCount(BlockedPackage, where, {
      orderBy: { blockedAt: 'desc', id: 'desc' },
      limit: filter.limit ?? 100,
      offset: filter.offset ?? 0,
    })
    return { total, items: rows.map(rowToInfo) }
  }

  private async readGeneration(): Promise<string | null> {
    const row = await this.db.em().findOne(SystemKv, { key: GENERATION_KEY })
    const v = row?.value as { token?: unknown } | undefined
    return typeof v?.token === 'string' ? v.token : null
  }

  private async bump(em: ReturnType<Database['em']>): Promise<void> {
    const token = randomBytes(8).toString('hex')
    await em.upsert(SystemKv, { key: GENERATION_KEY, value: { token }, updatedAt: new Date(this.clock.now()) }, {
      onConflictFields: ['key'], onConflictAction: 'merge', onConflictMergeFields: ['value', 'updatedAt'],
    })
    // This replica already has the change in memory; keep its token so the poll does not reload.
    this.generation = token
  }
}

function add(index: Index, info: BlockInfo): void {
  let pkgs = index.get(info.registry)
  if (!pkgs) index.set(info.registry, (pkgs = new Map()))
  let versions = pkgs.get(info.name)
  if (!versions) pkgs.set(info.name, (versions = new Map()))
  versions.set(info.version, info)
}
