/**
 * The local (private) package store of one registry instance: `ctx.packages`.
 *
 * Publish path (DESIGN §4), in this order: registry mode → versioning policy (422) → namespace
 * claim and ownership (403) → signing (400/403) → quota (403/413, or a warning) → files streamed
 * into the CAS (digests verified, sha1/sha512/md5 computed) → every row in one transaction →
 * `core:package.published`. Whatever fails after a file was stored deletes what this publish
 * stored: a refused publish leaves no blob, no key and no row behind.
 *
 * Names are compared in the plugin's normalised form. The registry's `normalizeName` hook only
 * exists once the plugin's `setup` has returned, so it is looked up at each call.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { Readable } from 'node:stream'
import { randomInt } from 'node:crypto'
import type { EntityManager } from '@mikro-orm/sql'
import {
  AuthenticationError, ConflictError, InputError, NotAllowedError, NotFoundError, PayloadTooLargeError,
  type ArtifactCheck, type Clock, type CoreEvents, type EventActor, type EventBus, type Identity, type LocalFileInfo, type LocalPackageInfo,
  type LocalStoreService, type LocalVersionInfo, type LoggerService, type OwnerInfo, type PublishFile, type PublishInput,
  type PublishResult, type RegistryMode, type RegistryReply, type RegistryRequest,
} from '@batlehub/sdk'
import { LocalFile, LocalPackage, LocalVersion, NamespaceClaim, PackageOwner, PackageTag } from '../db/entities.ts'
import type { Database } from '../db/orm.ts'
import type { Accounting } from '../cache/accounting.ts'
import type { PackageCache } from './package-cache.ts'
import type { Cas } from '../storage/cas.ts'
import { checkFilename, checkName, checkTag, checkVersion, localFileKey, uploadId } from './names.ts'
import { fromSqlTime, isTransient, isUniqueViolation, qualified } from '../db/sql.ts'
import { isPrerelease, versioningPolicy, type VersioningPolicy } from './versioning.ts'

export type Visibility = 'public' | 'internal' | 'team'
export const VISIBILITIES: readonly Visibility[] = Object.freeze(['public', 'internal', 'team'])

export interface SigningPolicy {
  readonly required: boolean
  readonly allowed_types: readonly string[]
}

export interface QuotaPolicy {
  readonly max_storage_bytes_per_user?: number
  readonly max_packages_per_user?: number
  readonly enforcement: 'block' | 'warn'
}

export interface LocalStoreOptions {
  registry: string
  mode: RegistryMode
  versioning: VersioningPolicy
  signing: SigningPolicy
  quota: QuotaPolicy
  db: Database
  /** The CAS of the registry's storage backend (unscoped: local files live under `local/`). */
  cas: Cas
  events: EventBus<CoreEvents>
  clock: Clock
  log: LoggerService
  /** The kernel's download accounting: a download bumps a counter, written in batches. */
  accounting: Accounting
  /** Loaded packages, shared by the stores of a kernel; forgotten on every mutation. */
  packageCache: PackageCache
  /** The plugin's `normalizeName` hook, looked up at call time (it exists only after setup). */
  normalizer: () => ((name: string) => string) | undefined
  /**
   * The registry's download gate (blocklist, release-age gate; kernel/src/policy): throws 403 and
   * records the decision. Applied in serveFile so every plugin gets it for free.
   */
  policy?: { enforce(check: ArtifactCheck): void }
}

/** A namespace claim (seed: Team namespaces). */
export interface ClaimInfo {
  readonly prefix: string
  readonly groupId: string
  readonly claimedBy?: string
  readonly createdAt: string
}

type PackageRow = InstanceType<typeof LocalPackage.class>
type VersionRow = InstanceType<typeof LocalVersion.class>
type FileRow = InstanceType<typeof LocalFile.class>

/** Thrown inside a transaction to run it again from the start. */
class Retry extends Error {}

interface StoredFile {
  filename: string
  key: string
  size: number
  sha256: string
  digests: Record<string, string>
  contentType?: string
  metadata?: Record<string, unknown>
}

const EXTRA_DIGESTS = ['md5', 'sha1', 'sha512'] as const

/** Group ids are matched without spaces (seed user guide: "oidc:my team" matches "oidc:myteam"). */
function groupKey(group: string): string {
  return group.replace(/\s+/g, '')
}

function isMember(identity: Identity, group: string): boolean {
  const wanted = groupKey(group)
  return identity.groups.some((g) => groupKey(g) === wanted)
}

function actorOf(identity: Identity): EventActor {
  return { subject: identity.subject, userId: identity.userId, role: identity.role }
}

function iso(value: Date | string | number | null | undefined): string {
  return value === null || value === undefined ? new Date(0).toISOString() : fromSqlTime(value).toISOString()
}

function destroyBodies(files: readonly PublishFile[] | undefined, from = 0): void {
  if (!Array.isArray(files)) return
  for (const f of files.slice(from)) {
    const body = f?.body as unknown
    if (body instanceof Readable && !body.destroyed) {
      // Let a request body drain instead of erroring the socket under the reply.
      body.resume()
      body.destroy()
    }
  }
}

export class LocalStore implements LocalStoreService {
  private readonly checkVersioning: (version: string, prerelease: boolean) => void
  private readonly versionsTable: string
  private readonly packagesTable: string

  constructor(private readonly o: LocalStoreOptions) {
    this.checkVersioning = versioningPolicy(o.versioning)
    this.versionsTable = qualified(o.db, 'local_versions')
    this.packagesTable = qualified(o.db, 'local_packages')
  }

  get registry(): string {
    return this.o.registry
  }

  get mode(): RegistryMode {
    return this.o.mode
  }

  // -------------------------------------------------------------------------------------------
  // Names, visibility, claims, ownership
  // -------------------------------------------------------------------------------------------

  /** The normalised form of a name, by the plugin's hook (identity without one). */
  normalize(name: string): string {
    checkName(name)
    const fn = this.o.normalizer()
    const normalized = fn ? fn(name) : name
    if (typeof normalized !== 'string') throw new InputError(`invalid package name ${JSON.stringify(name)}`)
    return checkName(normalized)
  }

  /** The normalised name, or null for a name that cannot exist (too long, control characters). */
  private lookupName(name: string): string | null {
    try {
      checkName(name)
    } catch {
      return null
    }
    return this.normalize(name)
  }

  private now(): Date {
    return new Date(this.o.clock.now())
  }

  private em(): EntityManager {
    return this.o.db.em() as unknown as EntityManager
  }

  /** Runs `fn` in a transaction, again from the start on a transient conflict or a {@link Retry}. */
  private async tx<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.em().transactional((em) => fn(em as EntityManager))
      } catch (err) {
        if (attempt >= 8 || !(err instanceof Retry || isTransient(err))) {
          if (err instanceof Retry) throw new ConflictError('the package changed during the request; try again')
          throw err
        }
        await delay(attempt * 5 + randomInt(20))
      }
    }
  }

  private async findPackage(em: EntityManager, normalized: string): Promise<PackageRow | null> {
    return em.findOne(LocalPackage, { registry: this.o.registry, normalizedName: normalized }) as Promise<PackageRow | null>
  }

  /** The prefix in the normalised form when the plugin's hook accepts it, else as written. */
  private normalizePrefix(prefix: string): string {
    try {
      const fn = this.o.normalizer()
      return fn ? fn(prefix) : prefix
    } catch {
      return prefix
    }
  }

  /** Every namespace claim of the registry, longest prefix first. */
  async claims(): Promise<ClaimInfo[]> {
    const rows = await this.em().find(NamespaceClaim, { registry: this.o.registry }, { orderBy: { prefix: 'asc' } })
    return rows.map((r) => ({
      prefix: r.prefix, groupId: r.groupId, ...(r.claimedBy ? { claimedBy: r.claimedBy } : {}), createdAt: iso(r.createdAt),
    }))
  }

  /** The claim governing a name: the longest claimed prefix the name (as written or normalised) starts with. */
  private claimOf(claims: readonly ClaimInfo[], name: string, normalized: string): ClaimInfo | undefined {
    let best: ClaimInfo | undefined
    for (const c of claims) {
      if (!(name.startsWith(c.prefix) || normalized.startsWith(this.normalizePrefix(c.prefix)))) continue
      if (!best || c.prefix.length > best.prefix.length) best = c
    }
    return best
  }

  async claimFor(name: string): Promise<ClaimInfo | undefined> {
    return this.claimOf(await this.claims(), name, this.normalize(name))
  }

  private async ownerRows(em: EntityManager, normalized: string) {
    return em.find(PackageOwner, { registry: this.o.registry, packageName: normalized }, { orderBy: { id: 'asc' } })
  }

  /** The owner records matching the identity (its user id, or one of its groups). */
  private async matchingOwners(em: EntityManager, normalized: string, identity: Identity) {
    if (identity.role === 'anonymous') return []
    const rows = await this.ownerRows(em, normalized)
    return rows.filter((r) => (r.principalType === 'user' && r.principalId === identity.userId)
      || (r.principalType === 'group' && isMember(identity, r.principalId)))
  }

  private async visibleTo(pkg: Pick<PackageRow, 'name' | 'normalizedName'> & { visibility: string }, identity: Identity, claims?: readonly ClaimInfo[]): Promise<boolean> {
    if (pkg.visibility === 'public') return true
    if (identity.role === 'admin') return true
    if (identity.role === 'anonymous') return false
    if (pkg.visibility === 'internal') return true
    // `team` (and anything unknown, which is refused by default): the group owning the
    // namespace the name falls in, and the package's own owners.
    const claim = this.claimOf(claims ?? await this.claims(), pkg.name, pkg.normalizedName)
    if (claim && isMember(identity, claim.groupId)) return true
    return (await this.matchingOwners(this.em(), pkg.normalizedName, identity)).length > 0
  }

  /** The package when it exists and the identity may see it; otherwise a 404 as if absent. */
  private async visiblePackage(name: string, identity: Identity | undefined): Promise<PackageRow> {
    const normalized = this.normalize(name)
    const pkg = await this.findPackage(this.em(), normalized)
    if (!pkg || (identity && !(await this.visibleTo(pkg, identity)))) {
      throw new NotFoundError(`no package ${JSON.stringify(name)} in registry ${this.o.registry}`)
    }
    return pkg
  }

  /** The package when the identity may manage it: 404 when absent or hidden, 403 when not an owner. */
  private async managedPackage(name: string, identity: Identity, needAdminOwner = false): Promise<PackageRow> {
    this.requireLocal()
    if (!identity || identity.role === 'anonymous') throw new AuthenticationError('authentication required to manage a package')
    const pkg = await this.visiblePackage(name, identity)
    if (identity.role === 'admin') return pkg
    const owners = await this.matchingOwners(this.em(), pkg.normalizedName, identity)
    if (owners.length === 0) throw new NotAllowedError(`${identity.userId} is not an owner of ${pkg.name}`)
    if (needAdminOwner && !owners.some((o) => o.role === 'admin')) {
      throw new NotAllowedError(`${identity.userId} is not an admin owner of ${pkg.name}: only admin owners manage owners`)
    }
    return pkg
  }

  private requireLocal(): void {
    if (this.o.mode !== 'local' && this.o.mode !== 'hybrid') {
      // Seed (user guide, troubleshooting): "registry is not in local or hybrid mode".
      throw new NotAllowedError(`registry ${this.o.registry} is not in local or hybrid mode`)
    }
  }

  async canManage(name: string, identity: Identity): Promise<boolean> {
    if (identity.role === 'admin') return true
    if (identity.role === 'anonymous') return false
    const normalized = this.normalize(name)
    const pkg = await this.findPackage(this.em(), normalized)
    if (!pkg) return false
    return (await this.matchingOwners(this.em(), normalized, identity)).length > 0
  }

  async exists(name: string): Promise<boolean> {
    const normalized = this.lookupName(name)
    if (normalized === null) return false
    return (await this.em().count(LocalPackage, { registry: this.o.registry, normalizedName: normalized })) > 0
  }

  // -------------------------------------------------------------------------------------------
  // Publish
  // -------------------------------------------------------------------------------------------

  async publish(input: PublishInput): Promise<PublishResult> {
    let prepared: Awaited<ReturnType<LocalStore['prepare']>>
    try {
      prepared = await this.prepare(input)
    } catch (err) {
      destroyBodies(input?.files)
      throw err
    }
    const { name, normalized, version, identity, quota, prerelease, publishedAt, existing } = prepared
    const upload = uploadId()
    const stored: StoredFile[] = []
    let storedBytes = 0
    try {
      for (const [i, file] of input.files.entries()) {
        const remaining = quota.blockBytesLeft === undefined ? undefined : Math.max(0, quota.blockBytesLeft - storedBytes)
        const key = localFileKey(this.o.registry, normalized, version, upload, file.filename)
        try {
          const put = await this.o.cas.put({
            key, body: file.body, contentType: file.contentType, expect: file.expect, digests: [...EXTRA_DIGESTS],
            ...(remaining !== undefined ? { maxBytes: remaining } : {}),
            ...(input.signal ? { signal: input.signal } : {}),
          })
          stored.push({
            filename: file.filename, key, size: put.size, sha256: put.sha256, digests: { ...put.digests } as Record<string, string>,
            ...(file.contentType ? { contentType: file.contentType } : {}),
            ...(file.metadata ? { metadata: file.metadata } : {}),
          })
          storedBytes += put.size
        } catch (err) {
          destroyBodies(input.files, i + 1)
          if ((err as { code?: string })?.code === 'BH_TOO_LARGE' && remaining !== undefined) {
            throw new PayloadTooLargeError(
              `publish quota exceeded: ${quota.bytesUsed} of ${quota.bytesLimit} bytes used; this upload needs more than the ${remaining} bytes left`,
              { headers: quota.headers(storedBytes, 0) },
            )
          }
          throw err
        }
      }
      const result = await this.commit({ input, name, normalized, version, identity, prerelease, publishedAt, stored, existedBefore: existing })
      this.forget(normalized)
      const headers = quota.headers(storedBytes, result.created ? 1 : 0)
      this.o.events.emit('core:package.published', {
        registry: this.o.registry, name: result.name, version, actor: actorOf(identity), at: this.now().toISOString(),
      })
      return {
        name: result.name, version, created: result.created, headers,
        files: stored.map((f) => this.fileInfo(f)),
      }
    } catch (err) {
      // Nothing stored, nothing lost: the keys are this publish's own (a fresh upload id), so
      // deleting them never touches another publish's files.
      for (const f of stored) {
        await this.o.cas.delete(f.key).catch((e) => this.o.log.warn('cannot delete a file of a refused publish', { key: f.key, error: (e as Error).message }))
      }
      throw err
    }
  }

  /** Every check that needs no file bytes, in the order of DESIGN §4. */
  private async prepare(input: PublishInput) {
    this.requireLocal()
    if (!input || typeof input !== 'object') throw new InputError('publish input is missing')
    const identity = input.identity
    if (!identity || identity.role === 'anonymous') {
      // Ownership needs a known publisher: the first one becomes the package's admin owner.
      throw new AuthenticationError('publishing needs an authenticated user')
    }
    const name = checkName(input.name)
    const normalized = this.normalize(name)
    const version = checkVersion(input.version)
    if (!Array.isArray(input.files) || input.files.length === 0) throw new InputError('a publish needs at least one file')
    const seen = new Set<string>()
    for (const f of input.files) {
      checkFilename(f?.filename)
      if (seen.has(f.filename)) throw new InputError(`file ${JSON.stringify(f.filename)} appears twice in one publish`)
      seen.add(f.filename)
      if (f.body === undefined || f.body === null) throw new InputError(`file ${JSON.stringify(f.filename)} has no body`)
    }
    let publishedAt = this.now()
    if (input.publishedAt !== undefined) {
      publishedAt = new Date(input.publishedAt)
      if (Number.isNaN(publishedAt.getTime())) throw new InputError(`publishedAt ${JSON.stringify(input.publishedAt)} is not an ISO-8601 time`)
    }
    for (const [tag, target] of Object.entries(input.tags ?? {})) {
      checkTag(tag)
      if (target !== version) checkVersion(target)
    }

    // 1. Versioning policy (422).
    const prerelease = typeof input.prerelease === 'boolean' ? input.prerelease : isPrerelease(version)
    this.checkVersioning(version, prerelease)

    // 2. Namespace claim, then ownership (403).
    const admin = identity.role === 'admin'
    const claim = this.claimOf(await this.claims(), name, normalized)
    if (claim && !admin && !isMember(identity, claim.groupId)) {
      throw new NotAllowedError(`package ${name} is in namespace "${claim.prefix}" claimed by group ${claim.groupId}; ${identity.userId} is not a member`)
    }
    const em = this.em()
    const existing = await this.findPackage(em, normalized)
    if (existing) {
      if (!admin && (await this.matchingOwners(em, normalized, identity)).length === 0) {
        throw new NotAllowedError(`${identity.userId} is not an owner of ${existing.name}`)
      }
      // Refuse a repeated version before reading the upload; the transaction checks again.
      const ver = await em.findOne(LocalVersion, { package: existing.id, version })
      if (ver && !input.appendToExisting) throw new ConflictError(`${existing.name}@${version} already exists`)
      if (ver) {
        const clash = await em.findOne(LocalFile, { version: ver.id, filename: { $in: [...seen] } })
        if (clash) throw new ConflictError(`${existing.name}@${version} already has a file ${JSON.stringify(clash.filename)}`)
      }
    }

    // 3. Signing (400 missing, 403 type not allowed).
    const sig = input.signature
    if (sig !== undefined && sig !== null) {
      if (typeof sig.value !== 'string' || !sig.value.trim() || typeof sig.type !== 'string' || !sig.type.trim()) {
        throw new InputError('a signature needs a value (X-Artifact-Signature) and a type (X-Signature-Type)')
      }
      if (/[\r\n\0]/.test(sig.value) || /[\r\n\0]/.test(sig.type) || sig.value.length > 65536 || sig.type.length > 64) {
        throw new InputError('malformed signature headers')
      }
    }
    if (this.o.signing.required && !sig) {
      throw new InputError(`registry ${this.o.registry} requires signed publishes: send X-Artifact-Signature and X-Signature-Type (signing.required)`)
    }
    if (sig && this.o.signing.allowed_types.length > 0 && !this.o.signing.allowed_types.includes(sig.type.trim())) {
      throw new NotAllowedError(`signature type ${JSON.stringify(sig.type)} is not allowed here (signing.allowed_types: ${this.o.signing.allowed_types.join(', ')})`)
    }

    // 4. Quota (403 packages / 413 bytes when blocking; a warning header otherwise).
    const quota = await this.quotaFor(identity.userId, !existing)
    return { name, normalized, version, identity, quota, prerelease, publishedAt, existing: existing !== null }
  }

  /** Current usage of a user in this registry, checked against the quota before any byte is read. */
  private async quotaFor(userId: string, creating: boolean) {
    const q = this.o.quota
    const [bytesRow] = await this.o.db.execute(
      `select coalesce(sum(v.size_bytes), 0) as bytes from ${this.versionsTable} v join ${this.packagesTable} p on p.id = v.package_id
       where p.registry = ? and v.published_by = ?`, [this.o.registry, userId])
    const [packagesRow] = await this.o.db.execute(
      `select count(*) as n from ${this.packagesTable} where registry = ? and created_by = ?`, [this.o.registry, userId])
    const bytesUsed = Number(bytesRow?.bytes ?? 0)
    const packagesUsed = Number(packagesRow?.n ?? 0)
    const bytesLimit = q.max_storage_bytes_per_user
    const packagesLimit = q.max_packages_per_user
    const block = q.enforcement === 'block'
    const warnings: string[] = []
    const headers = (addedBytes: number, addedPackages: number): Record<string, string> => {
      const h: Record<string, string> = {
        'X-Quota-Storage-Used': String(bytesUsed + addedBytes),
        'X-Quota-Packages-Used': String(packagesUsed + addedPackages),
      }
      if (bytesLimit !== undefined) h['X-Quota-Storage-Limit'] = String(bytesLimit)
      if (packagesLimit !== undefined) h['X-Quota-Packages-Limit'] = String(packagesLimit)
      const warn = [...warnings]
      if (!block && bytesLimit !== undefined && bytesUsed + addedBytes > bytesLimit) warn.push(`storage quota exceeded: ${bytesUsed + addedBytes} of ${bytesLimit} bytes`)
      if (warn.length) h['X-Quota-Warning'] = warn.join('; ')
      return h
    }
    if (packagesLimit !== undefined && creating && packagesUsed + 1 > packagesLimit) {
      const message = `package quota exceeded: ${userId} owns ${packagesUsed} of ${packagesLimit} packages`
      if (block) throw new NotAllowedError(message, { headers: headers(0, 0) })
      warnings.push(message)
    }
    if (bytesLimit !== undefined && bytesUsed >= bytesLimit && block) {
      throw new PayloadTooLargeError(`publish quota exceeded: ${bytesUsed} of ${bytesLimit} bytes used`, { headers: headers(0, 0) })
    }
    return {
      bytesUsed, bytesLimit, headers,
      /** Bytes this publish may still store when the byte quota blocks. */
      blockBytesLeft: block && bytesLimit !== undefined ? bytesLimit - bytesUsed : undefined,
    }
  }

  /** Writes every row of a publish in one transaction. */
  private async commit(p: {
    input: PublishInput; name: string; normalized: string; version: string; identity: Identity; prerelease: boolean
    publishedAt: Date; stored: StoredFile[]; existedBefore: boolean
  }): Promise<{ name: string; created: boolean }> {
    const { input, normalized, version, identity, stored } = p
    const size = stored.reduce((n, f) => n + f.size, 0)
    return this.tx(async (em) => {
      const now = this.now()
      let pkg = await this.findPackage(em, normalized)
      let created = false
      let packageId: number
      if (!pkg) {
        try {
          packageId = await em.insert(LocalPackage, {
            registry: this.o.registry, name: p.name, normalizedName: normalized, visibility: 'public',
            description: input.description ?? null, createdBy: identity.userId, createdAt: now, updatedAt: now,
          } as any) as unknown as number
        } catch (err) {
          // Another publish created the package meanwhile: start over and check ownership again.
          if (isUniqueViolation(err)) throw new Retry()
          throw err
        }
        created = true
        // Seed (Ownership): the first publisher of a package becomes its admin owner.
        await em.nativeDelete(PackageOwner, { registry: this.o.registry, packageName: normalized })
        await em.insert(PackageOwner, {
          registry: this.o.registry, packageName: normalized, principalType: 'user', principalId: identity.userId,
          role: 'admin', createdBy: identity.userId, createdAt: now,
        } as any)
      } else {
        packageId = pkg.id
        if (identity.role !== 'admin' && (await this.matchingOwners(em, normalized, identity)).length === 0) {
          // The package appeared (or lost this owner) after the checks outside the transaction.
          throw new NotAllowedError(`${identity.userId} is not an owner of ${pkg.name}`)
        }
        await em.nativeUpdate(LocalPackage, { id: pkg.id }, {
          updatedAt: now, ...(input.description !== undefined ? { description: input.description } : {}),
        } as any)
      }

      let versionId: number
      const existingVersion = await em.findOne(LocalVersion, { package: packageId, version })
      if (existingVersion) {
        if (!input.appendToExisting) throw new ConflictError(`${pkg?.name ?? p.name}@${version} already exists`)
        versionId = existingVersion.id
        // An increment, not read-modify-write: concurrent appends to one version all count.
        await em.execute(`update ${this.versionsTable} set size_bytes = size_bytes + ? where id = ?`, [size, versionId])
      } else {
        try {
          versionId = await em.insert(LocalVersion, {
            package: packageId, version, prerelease: p.prerelease, publishedAt: p.publishedAt, publishedBy: identity.userId,
            yanked: false, metadata: input.metadata ?? null, sizeBytes: size,
            signature: input.signature?.value ?? null, signatureType: input.signature?.type?.trim() ?? null,
          } as any) as unknown as number
        } catch (err) {
          if (isUniqueViolation(err)) {
            // A concurrent publish of the same version won. Appending protocols start over and add
            // their file to it; the others are refused.
            if (input.appendToExisting) throw new Retry()
            throw new ConflictError(`${pkg?.name ?? p.name}@${version} already exists`)
          }
          throw err
        }
      }

      for (const f of stored) {
        try {
          await em.insert(LocalFile, {
            version: versionId, filename: f.filename, storageKey: f.key, sha256: f.sha256, size: f.size,
            contentType: f.contentType ?? null, digests: f.digests, metadata: f.metadata ?? null,
          } as any)
        } catch (err) {
          if (isUniqueViolation(err)) throw new ConflictError(`${pkg?.name ?? p.name}@${version} already has a file ${JSON.stringify(f.filename)}`)
          throw err
        }
      }

      for (const [tag, target] of Object.entries(input.tags ?? {})) {
        if (target !== version && !(await em.findOne(LocalVersion, { package: packageId, version: target }))) {
          throw new InputError(`tag ${tag} points at ${target}, which is not a version of ${p.name}`)
        }
        await this.writeTag(em, packageId, tag, target, now)
      }
      return { name: pkg?.name ?? p.name, created }
    })
  }

  /** Points a tag at a version; call inside {@link LocalStore.tx} (a concurrent first write retries). */
  private async writeTag(em: EntityManager, packageId: number, tag: string, version: string, now: Date): Promise<void> {
    const updated = await em.nativeUpdate(PackageTag, { package: packageId, tag }, { version, updatedAt: now } as any)
    if (updated > 0) return
    try {
      await em.insert(PackageTag, { package: packageId, tag, version, updatedAt: now } as any)
    } catch (err) {
      if (isUniqueViolation(err)) throw new Retry()
      throw err
    }
  }

  private fileInfo(f: StoredFile | FileRow): LocalFileInfo {
    const digests = { ...((f as FileRow).digests ?? (f as StoredFile).digests ?? {}) } as Record<string, string>
    digests.sha256 ??= f.sha256
    return {
      filename: f.filename,
      size: Number(f.size),
      sha256: f.sha256,
      digests,
      ...(f.contentType ? { contentType: f.contentType } : {}),
      ...(f.metadata ? { metadata: f.metadata as Record<string, unknown> } : {}),
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  async getPackage(name: string, options: { identity?: Identity } = {}): Promise<LocalPackageInfo | null> {
    const info = await this.visibleInfo(name, options.identity)
    // A copy: callers own what they get, the cached package stays as loaded.
    return info && structuredClone(info)
  }

  async getVersion(name: string, version: string, options: { identity?: Identity } = {}): Promise<LocalVersionInfo | null> {
    if (typeof version !== 'string') return null
    const info = await this.visibleInfo(name, options.identity)
    const found = info?.versions.find((v) => v.version === version)
    return found ? structuredClone(found) : null
  }

  /**
   * The (cached) package when it exists and the identity, if given, may see it. Visibility is
   * decided on every call: only the package is cached, never who may see it.
   */
  private async visibleInfo(name: string, identity: Identity | undefined): Promise<LocalPackageInfo | null> {
    const normalized = this.lookupName(name)
    if (normalized === null) return null
    let info = this.o.packageCache.get(this.o.registry, normalized)
    if (!info) {
      const token = this.o.packageCache.begin()
      info = await this.loadPackage(normalized) ?? undefined
      if (!info) return null
      this.o.packageCache.set(this.o.registry, normalized, info, token)
    }
    if (identity && !(await this.visibleTo(info, identity))) return null
    return info
  }

  /** Forgets the cached copy of a package after a change to it. */
  private forget(normalized: string): void {
    this.o.packageCache.forget(this.o.registry, normalized)
  }

  private async loadPackage(normalized: string): Promise<LocalPackageInfo | null> {
    const em = this.em()
    const pkg = await this.findPackage(em, normalized)
    if (!pkg) return null
    const versions = await em.find(LocalVersion, { package: pkg.id }, { orderBy: [{ publishedAt: 'desc' }, { id: 'desc' }] }) as VersionRow[]
    const files = await em.find(LocalFile, { version: { package: pkg.id } }, { orderBy: { id: 'asc' } }) as FileRow[]
    const tags = await em.find(PackageTag, { package: pkg.id }, { orderBy: { tag: 'asc' } })
    const byVersion = new Map<number, LocalFileInfo[]>()
    for (const f of files) {
      const id = (f.version as unknown as { id: number }).id
      const list = byVersion.get(id) ?? []
      list.push(this.fileInfo(f))
      byVersion.set(id, list)
    }
    return {
      name: pkg.name,
      normalizedName: pkg.normalizedName,
      ...(pkg.description ? { description: pkg.description } : {}),
      visibility: (VISIBILITIES.includes(pkg.visibility as Visibility) ? pkg.visibility : 'team') as Visibility,
      createdAt: iso(pkg.createdAt),
      updatedAt: iso(pkg.updatedAt),
      versions: versions.map((v): LocalVersionInfo => ({
        version: v.version,
        publishedAt: iso(v.publishedAt),
        ...(v.publishedBy ? { publishedBy: v.publishedBy } : {}),
        yanked: !!v.yanked,
        ...(v.yankReason ? { yankReason: v.yankReason } : {}),
        ...(v.deprecated ? { deprecated: v.deprecated } : {}),
        prerelease: !!v.prerelease,
        metadata: (v.metadata ?? {}) as Record<string, unknown>,
        files: byVersion.get(v.id) ?? [],
        ...(v.signature && v.signatureType ? { signature: { value: v.signature, type: v.signatureType } } : {}),
      })),
      tags: Object.fromEntries(tags.map((t) => [t.tag, t.version])),
    }
  }

  async search(query: string, options: { limit?: number; offset?: number; identity?: Identity } = {}) {
    const q = String(query ?? '').toLowerCase()
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? 20), 1), 100_000)
    const offset = Math.max(Math.trunc(options.offset ?? 0), 0)
    const em = this.em()
    // The database narrows the candidates (ASCII case folding, `!` escaping the same on both
    // dialects); the exact, Unicode-aware match is checked again below.
    const where = ['registry = ?']
    const params: unknown[] = [this.o.registry]
    if (q && /^[\x20-\x7e]*$/.test(q)) {
      const pattern = `%${q.replace(/[!%_]/g, (c) => `!${c}`)}%`
      where.push(`(lower(name) like ? escape '!' or lower(normalized_name) like ? escape '!')`)
      params.push(pattern, pattern)
    }
    const raw = await this.o.db.execute(
      `select id, name, normalized_name, visibility, description, updated_at from ${this.packagesTable}
       where ${where.join(' and ')} order by updated_at desc, id desc`, params)
    const rows = raw.map((r) => ({
      id: Number(r.id), name: String(r.name), normalizedName: String(r.normalized_name), visibility: String(r.visibility),
      description: (r.description as string | null) ?? null, updatedAt: fromSqlTime(r.updated_at),
    })) as unknown as PackageRow[]
    const identity = options.identity
    const claims = identity && rows.some((r) => r.visibility !== 'public') ? await this.claims() : []
    const matched: PackageRow[] = []
    for (const r of rows) {
      if (q && !r.name.toLowerCase().includes(q) && !r.normalizedName.toLowerCase().includes(q)) continue
      if (identity && !(await this.visibleTo(r, identity, claims))) continue
      matched.push(r)
    }
    const page = matched.slice(offset, offset + limit)
    const latest = await this.latestOf(em, page.map((r) => r.id))
    return {
      total: matched.length,
      items: page.map((r) => ({
        name: r.name,
        ...(r.description ? { description: r.description } : {}),
        ...(latest.has(r.id) ? { latest: latest.get(r.id)! } : {}),
        updatedAt: iso(r.updatedAt),
      })),
    }
  }

  /** The `latest` tag of each package, else its newest non-yanked version. */
  private async latestOf(em: EntityManager, ids: number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>()
    if (ids.length === 0) return out
    const tags = await em.find(PackageTag, { package: { $in: ids }, tag: 'latest' })
    for (const t of tags) out.set((t.package as unknown as { id: number }).id, t.version)
    const missing = ids.filter((id) => !out.has(id))
    if (missing.length) {
      const versions = await em.find(LocalVersion, { package: { $in: missing }, yanked: false }, {
        fields: ['id', 'package', 'version', 'publishedAt'] as any, orderBy: [{ publishedAt: 'desc' }, { id: 'desc' }],
      }) as VersionRow[]
      for (const v of versions) {
        const id = (v.package as unknown as { id: number }).id
        if (!out.has(id)) out.set(id, v.version)
      }
    }
    return out
  }

  /** The file row of a visible package version, or null. */
  private async fileRow(name: string, version: string, filename: string, identity: Identity | undefined): Promise<{ pkg: PackageRow; ver: VersionRow; file: FileRow } | null> {
    let normalized: string
    try {
      normalized = this.normalize(name)
      checkVersion(version)
      checkFilename(filename)
    } catch {
      return null // a name that cannot exist is simply absent
    }
    const em = this.em()
    const pkg = await this.findPackage(em, normalized)
    if (!pkg) return null
    if (identity && !(await this.visibleTo(pkg, identity))) return null
    const ver = await em.findOne(LocalVersion, { package: pkg.id, version }) as VersionRow | null
    if (!ver) return null
    const file = await em.findOne(LocalFile, { version: ver.id, filename }) as FileRow | null
    return file ? { pkg, ver, file } : null
  }

  async serveFile(name: string, version: string, filename: string, req: RegistryRequest, options: { contentType?: string; headers?: Record<string, string> } = {}): Promise<RegistryReply | null> {
    const found = await this.fileRow(name, version, filename, req.identity)
    if (!found) return null
    const { pkg, ver, file } = found
    this.o.policy?.enforce({ identity: req.identity, name: pkg.name, version: ver.version, ip: req.ip, publishedAt: iso(ver.publishedAt) })
    const headers: Record<string, string> = { ...(options.headers ?? {}) }
    if (ver.signature && ver.signatureType) {
      headers['X-Artifact-Signature'] = ver.signature
      headers['X-Signature-Type'] = ver.signatureType
    }
    const reply = await this.o.cas.serve({
      key: file.storageKey, request: req, headers,
      ...(options.contentType ?? file.contentType ? { contentType: options.contentType ?? file.contentType! } : {}),
    })
    if (!reply) return null
    // A download is a GET that sends the file from its first byte (a resumed range is not another one).
    const range = String(reply.headers?.['content-range'] ?? '')
    if (req.method === 'GET' && (reply.status === 200 || (reply.status === 206 && range.startsWith('bytes 0-')))) {
      this.o.accounting.record({
        registry: this.o.registry, key: file.storageKey, name: pkg.normalizedName, version: ver.version, count: 1, at: this.o.clock.now(),
      })
    }
    return reply
  }

  async openFile(name: string, version: string, filename: string): Promise<Readable | null> {
    const found = await this.fileRow(name, version, filename, undefined)
    if (!found) return null
    const got = await this.o.cas.get(found.file.storageKey)
    return got?.body ?? null
  }

  // -------------------------------------------------------------------------------------------
  // Mutations
  // -------------------------------------------------------------------------------------------

  private async versionOf(em: EntityManager, pkg: PackageRow, version: string): Promise<VersionRow> {
    const ver = await em.findOne(LocalVersion, { package: pkg.id, version: checkVersion(version) }) as VersionRow | null
    if (!ver) throw new NotFoundError(`no version ${version} of ${pkg.name}`)
    return ver
  }

  async yank(name: string, version: string, options: { identity: Identity; reason?: string }): Promise<void> {
    await this.setYanked(name, version, options.identity, true, options.reason)
  }

  async unyank(name: string, version: string, options: { identity: Identity }): Promise<void> {
    await this.setYanked(name, version, options.identity, false)
  }

  private async setYanked(name: string, version: string, identity: Identity, yanked: boolean, reason?: string): Promise<void> {
    const pkg = await this.managedPackage(name, identity)
    const em = this.em()
    const ver = await this.versionOf(em, pkg, version)
    const now = this.now()
    await em.nativeUpdate(LocalVersion, { id: ver.id }, (yanked
      ? { yanked: true, yankedAt: now, yankReason: reason ? String(reason).slice(0, 4096) : null }
      : { yanked: false, yankedAt: null, yankReason: null }) as any)
    await em.nativeUpdate(LocalPackage, { id: pkg.id }, { updatedAt: now } as any)
    this.forget(pkg.normalizedName)
    this.o.events.emit(yanked ? 'core:package.yanked' : 'core:package.unyanked', {
      registry: this.o.registry, name: pkg.name, version: ver.version, actor: actorOf(identity), at: now.toISOString(),
    })
  }

  async deprecate(name: string, version: string, options: { identity: Identity; message: string }): Promise<void> {
    const pkg = await this.managedPackage(name, options.identity)
    const em = this.em()
    const ver = await this.versionOf(em, pkg, version)
    const message = typeof options.message === 'string' ? options.message.slice(0, 4096) : ''
    const now = this.now()
    await em.nativeUpdate(LocalVersion, { id: ver.id }, { deprecated: message || null } as any)
    await em.nativeUpdate(LocalPackage, { id: pkg.id }, { updatedAt: now } as any)
    this.forget(pkg.normalizedName)
    this.o.events.emit('core:package.deprecated', {
      registry: this.o.registry, name: pkg.name, version: ver.version, message, actor: actorOf(options.identity), at: now.toISOString(),
    })
  }

  async delete(name: string, version: string | undefined, options: { identity: Identity }): Promise<void> {
    const pkg = await this.managedPackage(name, options.identity)
    const keys = await this.tx(async (em) => {
      if (version !== undefined) {
        const ver = await this.versionOf(em, pkg, version)
        const files = await em.find(LocalFile, { version: ver.id }) as FileRow[]
        await em.nativeDelete(LocalFile, { version: ver.id })
        await em.nativeDelete(LocalVersion, { id: ver.id })
        // A tag never points at a version that is gone.
        await em.nativeDelete(PackageTag, { package: pkg.id, version: ver.version })
        await em.nativeUpdate(LocalPackage, { id: pkg.id }, { updatedAt: this.now() } as any)
        return files.map((f) => f.storageKey)
      }
      const files = await em.find(LocalFile, { version: { package: pkg.id } }) as FileRow[]
      await em.nativeDelete(LocalFile, { id: { $in: files.map((f) => f.id) } })
      await em.nativeDelete(LocalVersion, { package: pkg.id })
      await em.nativeDelete(PackageTag, { package: pkg.id })
      await em.nativeDelete(PackageOwner, { registry: this.o.registry, packageName: pkg.normalizedName })
      await em.nativeDelete(LocalPackage, { id: pkg.id })
      return files.map((f) => f.storageKey)
    })
    this.forget(pkg.normalizedName)
    // After the commit: a crash here leaves unreferenced storage keys, never a row without its file.
    for (const key of keys) {
      await this.o.cas.delete(key).catch((err) => this.o.log.warn('cannot delete a file of a deleted version', { key, error: (err as Error).message }))
    }
    this.o.events.emit('core:package.deleted', {
      registry: this.o.registry, name: pkg.name, ...(version !== undefined ? { version } : {}),
      actor: actorOf(options.identity), at: this.now().toISOString(),
    })
  }

  async setTag(name: string, tag: string, version: string, options: { identity: Identity }): Promise<void> {
    checkTag(tag)
    const pkg = await this.managedPackage(name, options.identity)
    await this.tx(async (em) => {
      const ver = await this.versionOf(em, pkg, version)
      const now = this.now()
      await this.writeTag(em, pkg.id, tag, ver.version, now)
      await em.nativeUpdate(LocalPackage, { id: pkg.id }, { updatedAt: now } as any)
    })
    this.forget(pkg.normalizedName)
  }

  async removeTag(name: string, tag: string, options: { identity: Identity }): Promise<void> {
    checkTag(tag)
    const pkg = await this.managedPackage(name, options.identity)
    const em = this.em()
    const removed = await em.nativeDelete(PackageTag, { package: pkg.id, tag })
    if (!removed) throw new NotFoundError(`${pkg.name} has no tag ${tag}`)
    await em.nativeUpdate(LocalPackage, { id: pkg.id }, { updatedAt: this.now() } as any)
    this.forget(pkg.normalizedName)
  }

  // -------------------------------------------------------------------------------------------
  // Owners
  // -------------------------------------------------------------------------------------------

  async owners(name: string): Promise<OwnerInfo[]> {
    const rows = await this.ownerRows(this.em(), this.normalize(name))
    return rows.map((r) => ({ principalType: r.principalType as OwnerInfo['principalType'], principalId: r.principalId, role: r.role as OwnerInfo['role'] }))
  }

  async addOwner(name: string, owner: OwnerInfo, options: { identity: Identity }): Promise<void> {
    const principalType = owner?.principalType
    const principalId = typeof owner?.principalId === 'string' ? owner.principalId.trim() : ''
    const role = owner?.role ?? 'maintainer'
    if (principalType !== 'user' && principalType !== 'group') throw new InputError('principal type must be "user" or "group"')
    if (!principalId || principalId.length > 255 || /[\u0000-\u001f\u007f]/.test(principalId)) throw new InputError('principal id must be 1-255 printable characters')
    if (role !== 'admin' && role !== 'maintainer') throw new InputError('owner role must be "admin" or "maintainer"')
    const pkg = await this.managedPackage(name, options.identity, true)
    await this.tx(async (em) => {
      const rows = await this.ownerRows(em, pkg.normalizedName)
      const current = rows.find((r) => r.principalType === principalType && r.principalId === principalId)
      if (current) {
        if (current.role === role) return
        if (current.role === 'admin' && rows.filter((r) => r.role === 'admin').length === 1) {
          throw new ConflictError(`${principalType}:${principalId} is the last admin owner of ${pkg.name}; add another admin owner first`)
        }
        await em.nativeUpdate(PackageOwner, { id: current.id }, { role } as any)
        return
      }
      try {
        await em.insert(PackageOwner, {
          registry: this.o.registry, packageName: pkg.normalizedName, principalType, principalId, role,
          createdBy: options.identity.userId, createdAt: this.now(),
        } as any)
      } catch (err) {
        if (isUniqueViolation(err)) throw new Retry() // added concurrently: run again as a role change
        throw err
      }
    })
    this.forget(pkg.normalizedName)
  }

  async removeOwner(name: string, owner: Pick<OwnerInfo, 'principalType' | 'principalId'>, options: { identity: Identity }): Promise<void> {
    const pkg = await this.managedPackage(name, options.identity, true)
    await this.tx(async (em) => {
      const rows = await this.ownerRows(em, pkg.normalizedName)
      const current = rows.find((r) => r.principalType === owner?.principalType && r.principalId === owner?.principalId)
      if (!current) throw new NotFoundError(`${owner?.principalType}:${owner?.principalId} is not an owner of ${pkg.name}`)
      if (current.role === 'admin' && rows.filter((r) => r.role === 'admin').length === 1) {
        throw new ConflictError(`${current.principalType}:${current.principalId} is the last admin owner of ${pkg.name} and cannot be removed`)
      }
      await em.nativeDelete(PackageOwner, { id: current.id })
    })
    this.forget(pkg.normalizedName)
  }

  // -------------------------------------------------------------------------------------------
  // Administration (kernel API only)
  // -------------------------------------------------------------------------------------------

  /** The package's display name and visibility, regardless of who asks (admin API). */
  async visibility(name: string): Promise<{ name: string; visibility: Visibility }> {
    const pkg = await this.visiblePackage(name, undefined)
    return { name: pkg.name, visibility: pkg.visibility as Visibility }
  }

  async setVisibility(name: string, visibility: Visibility): Promise<{ name: string; visibility: Visibility }> {
    if (!VISIBILITIES.includes(visibility)) throw new InputError(`visibility must be one of ${VISIBILITIES.join(', ')}`)
    const pkg = await this.visiblePackage(name, undefined)
    await this.em().nativeUpdate(LocalPackage, { id: pkg.id }, { visibility, updatedAt: this.now() } as any)
    this.forget(pkg.normalizedName)
    return { name: pkg.name, visibility }
  }

  async addClaim(claim: { prefix: string; groupId: string; claimedBy?: string }): Promise<ClaimInfo> {
    const prefix = typeof claim.prefix === 'string' ? claim.prefix : ''
    // Seed user guide: "package prefixes cannot contain spaces".
    if (!prefix || prefix.length > 512 || /\s|[\u0000-\u001f\u007f]/.test(prefix)) {
      throw new InputError('prefix must be 1-512 characters without spaces or control characters')
    }
    const groupId = groupKey(String(claim.groupId ?? ''))
    if (!groupId || groupId.length > 255) throw new InputError('group_id must be 1-255 characters')
    const now = this.now()
    try {
      await this.em().insert(NamespaceClaim, {
        registry: this.o.registry, prefix, groupId, claimedBy: claim.claimedBy ?? null, createdAt: now,
      } as any)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`prefix ${JSON.stringify(prefix)} is already claimed in registry ${this.o.registry}`)
      throw err
    }
    return { prefix, groupId, ...(claim.claimedBy ? { claimedBy: claim.claimedBy } : {}), createdAt: now.toISOString() }
  }

  async removeClaim(prefix: string): Promise<void> {
    const removed = await this.em().nativeDelete(NamespaceClaim, { registry: this.o.registry, prefix })
    if (!removed) throw new NotFoundError(`no claim on prefix ${JSON.stringify(prefix)} in registry ${this.o.registry}`)
  }
}
