/**
 * `mvn deploy`: one HTTP PUT per file, in an order that depends on the deploy plugin (3.x sends the
 * POM first, 2.x and `deploy:deploy-file` may send the JAR first), each followed by its checksums,
 * then `maven-metadata.xml`.
 *
 * Three phases:
 * 1. files of a version that is not committed yet are staged (storage + a `staging` record, with an
 *    expiry of `staging_ttl_secs`);
 * 2. the POM commits the version: its coordinates must match its path, and the uploader's staged
 *    files of that version are published with it;
 * 3. later files of the version are appended (a release accepts new files only for
 *    `staging_ttl_secs` after its POM; a file name never twice); checksums are verified against
 *    the stored file and not kept (the hub serves checksums computed from its own digests);
 *    `maven-metadata.xml` uploads are checked and ignored (the hub generates metadata from its
 *    records).
 */
import type { Readable } from 'node:stream'
import {
  BatleHubError, ConflictError, InputError, NotAllowedError, type Identity, type LocalVersionInfo, type PublishFile, type RegistryReply, type RegistryRequest,
} from '@batlehub/sdk'
import { packageName, parseRepositoryPath, type ArtifactPath, type ChecksumAlgorithm, type MetadataPath } from './coordinates.ts'
import { MAX_CHECKSUM_BYTES, digestStream, parseChecksumFile, toHex } from './checksums.ts'
import { localFileDigest } from './local.ts'
import { validateUploadedMetadata } from './metadata.ts'
import { MAVEN_ERROR_CODES } from './errors.ts'
import { parsePom, type PomInfo } from './pom.ts'
import { isPrerelease, isSnapshot } from './version.ts'
import { contentTypeOf, type MavenContext } from './upstream.ts'
import { repositoryPath } from './download.ts'

/** Record collection of staged files. */
const STAGING = 'staging'

/** A file uploaded before its version's POM. */
export interface StagedFile {
  readonly name: string
  readonly version: string
  readonly filename: string
  /** Storage key of the bytes. */
  readonly key: string
  readonly size: number
  readonly digests: Partial<Record<ChecksumAlgorithm, string>>
  /** Identity subject of the uploader: only their own staged files join their POM. */
  readonly subject: string
  /** Epoch milliseconds. */
  readonly expiresAt: number
  readonly metadata: Record<string, unknown>
}

function stagingRecordKey(name: string, version: string, filename: string): string {
  // ':' never occurs in a coordinate segment, so the version prefix cannot match another version.
  return `${name}:${version}:${filename}`
}

function fileMetadata(p: ArtifactPath): Record<string, unknown> {
  return {
    extension: p.extension,
    ...(p.classifier ? { classifier: p.classifier } : {}),
    ...(p.build ? { timestamp: p.build.timestamp, buildNumber: p.build.buildNumber } : {}),
  }
}

function versionMetadata(pom: PomInfo): Record<string, unknown> {
  return {
    groupId: pom.groupId,
    artifactId: pom.artifactId,
    packaging: pom.packaging,
    ...(pom.name ? { name: pom.name } : {}),
    ...(pom.url ? { url: pom.url } : {}),
    ...(pom.licenses.length ? { licenses: [...pom.licenses] } : {}),
    ...(pom.parent ? { parent: { ...pom.parent } } : {}),
    dependencies: pom.dependencies.map((d) => ({ ...d })),
  }
}

function created(headers: Readonly<Record<string, string>> = {}): RegistryReply {
  return { status: 201, headers: { ...headers }, body: null }
}

function releaseExists(message: string): BatleHubError {
  return new BatleHubError(MAVEN_ERROR_CODES.releaseExists, message, 409)
}

function publishedBy(version: LocalVersionInfo, identity: Identity): boolean {
  return version.publishedBy === undefined || version.publishedBy === identity.userId || version.publishedBy === identity.subject
}

export interface Uploads {
  handlePut(req: RegistryRequest): Promise<RegistryReply>
  /** Removes expired staged files (also done on uploads, at most once a minute). */
  sweep(force?: boolean): Promise<number>
}

export function createUploads(ctx: MavenContext): Uploads {
  const ttlMs = ctx.config.staging_ttl_secs * 1000
  let lastSweep = -Infinity

  async function sweep(force = false): Promise<number> {
    const now = ctx.clock.now()
    if (!force && now - lastSweep < 60_000) return 0
    lastSweep = now
    let removed = 0
    let after: string | undefined
    for (;;) {
      const page = await ctx.records.list<StagedFile>(STAGING, { limit: 500, ...(after ? { after } : {}) })
      for (const { key, value } of page) {
        if (value.expiresAt > now) continue
        await ctx.storage.delete(value.key)
        await ctx.records.delete(STAGING, key)
        removed++
      }
      if (page.length < 500) break
      after = page[page.length - 1]!.key
    }
    if (removed) ctx.log.info('discarded expired staged uploads', { count: removed })
    return removed
  }

  async function stagedFor(name: string, version: string, identity: Identity): Promise<Array<{ recordKey: string; file: StagedFile }>> {
    const now = ctx.clock.now()
    const out: Array<{ recordKey: string; file: StagedFile }> = []
    for (const { key, value } of await ctx.records.list<StagedFile>(STAGING, { prefix: `${name}:${version}:`, limit: 1000 })) {
      if (value.subject === identity.subject && value.expiresAt > now && value.version === version) out.push({ recordKey: key, file: value })
    }
    return out
  }

  async function dropStaged(recordKey: string, file: StagedFile): Promise<void> {
    await ctx.storage.delete(file.key)
    await ctx.records.delete(STAGING, recordKey)
  }

  async function committedVersion(name: string, version: string): Promise<LocalVersionInfo | null> {
    return ctx.packages.getVersion(name, version)
  }

  async function publishPom(p: ArtifactPath, req: RegistryRequest): Promise<RegistryReply> {
    const body = await req.body.buffer(ctx.config.max_pom_bytes)
    const pom = parsePom(body)
    const mismatches: string[] = []
    if (pom.groupId !== p.groupId) mismatches.push(`groupId ${pom.groupId} (path: ${p.groupId})`)
    if (pom.artifactId !== p.artifactId) mismatches.push(`artifactId ${pom.artifactId} (path: ${p.artifactId})`)
    if (pom.version !== p.version) mismatches.push(`version ${pom.version} (path: ${p.version})`)
    if (mismatches.length) {
      throw new BatleHubError(MAVEN_ERROR_CODES.pomMismatch, `POM coordinates disagree with its path: ${mismatches.join(', ')}`, 400)
    }
    const name = packageName(p.groupId, p.artifactId)
    const existing = await committedVersion(name, p.version)
    if (existing && !isSnapshot(p.version)) {
      throw releaseExists(`release ${name}:${p.version} already exists; releases are immutable, deploy a new version`)
    }
    if (existing?.files.some((f) => f.filename === p.filename)) throw new ConflictError(`${p.filename} already exists in ${name}:${p.version}`)
    const staged = await stagedFor(name, p.version, req.identity)
    const files: PublishFile[] = [{ filename: p.filename, body, contentType: 'text/xml', metadata: fileMetadata(p) }]
    const opened: Readable[] = []
    for (const { file } of staged) {
      if (existing?.files.some((f) => f.filename === file.filename)) continue
      const got = await ctx.storage.get(file.key)
      if (!got) continue
      opened.push(got.body)
      files.push({ filename: file.filename, body: got.body, contentType: contentTypeOf(String(file.metadata.extension ?? '')), metadata: file.metadata, expect: { sha256: got.object.sha256 } })
    }
    const description = pom.description ?? pom.name
    let result
    try {
      result = await ctx.packages.publish({
        name,
        version: p.version,
        identity: req.identity,
        files,
        metadata: versionMetadata(pom),
        // Maven's own rule (ComparableVersion qualifiers: alpha, beta, milestone, rc, SNAPSHOT).
        prerelease: isPrerelease(p.version),
        signal: req.signal,
        ...(description ? { description } : {}),
        ...(existing ? { appendToExisting: true } : {}),
      })
    } finally {
      // Streams of staged files the store did not read (a refused publish) must not stay open.
      for (const stream of opened) stream.destroy()
    }
    for (const { recordKey, file } of staged) await dropStaged(recordKey, file)
    ctx.log.info('maven version committed', { name, version: p.version, files: files.length })
    return created(result.headers)
  }

  async function uploadFile(p: ArtifactPath, req: RegistryRequest): Promise<RegistryReply> {
    const name = packageName(p.groupId, p.artifactId)
    const existing = await committedVersion(name, p.version)
    if (existing) {
      if (existing.files.some((f) => f.filename === p.filename)) {
        if (isSnapshot(p.version)) throw new ConflictError(`${p.filename} already exists in ${name}:${p.version}`)
        throw releaseExists(`release ${name}:${p.version} already has ${p.filename}; releases are immutable, deploy a new version`)
      }
      if (!isSnapshot(p.version) && ctx.clock.now() - Date.parse(existing.publishedAt) > ttlMs) {
        throw releaseExists(`release ${name}:${p.version} was deployed at ${existing.publishedAt}; releases are immutable, deploy a new version`)
      }
      const result = await ctx.packages.publish({
        name,
        version: p.version,
        identity: req.identity,
        files: [{ filename: p.filename, body: req.body.stream(), contentType: contentTypeOf(p.extension), metadata: fileMetadata(p) }],
        appendToExisting: true,
        prerelease: isPrerelease(p.version),
        signal: req.signal,
      })
      return created(result.headers)
    }
    // Not committed yet: stage until the POM arrives. Someone who may not publish this package may
    // not stage files for it either (they would join the owner's next POM otherwise).
    if ((await ctx.packages.exists(name)) && !(await ctx.packages.canManage(name, req.identity))) {
      throw new NotAllowedError(`${req.identity.userId} may not publish ${name}`)
    }
    await sweep().catch((err: unknown) => ctx.log.warn('staging sweep failed', { err: (err as Error)?.message }))
    const key = `staging/${p.path}`
    const stored = await ctx.storage.put({ key, body: req.body.stream(), digests: ['sha1', 'md5', 'sha512'], contentType: contentTypeOf(p.extension), signal: req.signal })
    const staged: StagedFile = {
      name,
      version: p.version,
      filename: p.filename,
      key,
      size: stored.size,
      digests: {
        sha256: stored.sha256,
        ...(stored.digests.sha1 ? { sha1: toHex(stored.digests.sha1, 'sha1') } : {}),
        ...(stored.digests.md5 ? { md5: toHex(stored.digests.md5, 'md5') } : {}),
        ...(stored.digests.sha512 ? { sha512: toHex(stored.digests.sha512, 'sha512') } : {}),
      },
      subject: req.identity.subject,
      expiresAt: ctx.clock.now() + ttlMs,
      metadata: fileMetadata(p),
    }
    await ctx.records.put(STAGING, stagingRecordKey(name, p.version, p.filename), staged)
    return created()
  }

  async function verifyChecksum(p: ArtifactPath, algorithm: ChecksumAlgorithm, req: RegistryRequest): Promise<RegistryReply> {
    const content = await req.body.buffer(MAX_CHECKSUM_BYTES)
    const declared = parseChecksumFile(content, algorithm)
    if (!declared) throw new InputError(`${p.filename}.${algorithm} does not hold a ${algorithm} checksum`)
    const name = packageName(p.groupId, p.artifactId)
    const mismatch = (actual: string) =>
      new BatleHubError(MAVEN_ERROR_CODES.checksumMismatch, `${algorithm} checksum mismatch for ${p.filename}: uploaded ${declared}, stored file has ${actual}`, 400)
    const recordKey = stagingRecordKey(name, p.version, p.filename)
    const staged = await ctx.records.get<StagedFile>(STAGING, recordKey)
    if (staged && staged.subject === req.identity.subject && staged.expiresAt > ctx.clock.now()) {
      let actual = staged.digests[algorithm]
      if (!actual) {
        const got = await ctx.storage.get(staged.key)
        if (got) actual = (await digestStream(got.body))[algorithm]
      }
      if (actual && actual !== declared) {
        // The staged bytes are not what the client meant to send: keep nothing.
        await dropStaged(recordKey, staged)
        throw mismatch(actual)
      }
      return created()
    }
    const version = await committedVersion(name, p.version)
    const file = version?.files.find((f) => f.filename === p.filename)
    if (!version || !file) throw new InputError(`no uploaded ${p.filename} to verify ${p.filename}.${algorithm} against; upload the file first`)
    const actual = await localFileDigest(ctx, name, p.version, file, algorithm)
    if (actual && actual !== declared) {
      // A release whose deploy is still in progress (and by this uploader) is rolled back whole, so
      // that the corrected deploy is not refused as a re-deploy.
      if (!isSnapshot(p.version) && publishedBy(version, req.identity) && ctx.clock.now() - Date.parse(version.publishedAt) <= ttlMs) {
        await ctx.packages.delete(name, p.version, { identity: req.identity }).catch((err: unknown) => {
          ctx.log.warn('could not roll back a release after a checksum mismatch', { name, version: p.version, err: (err as Error)?.message })
        })
      }
      throw mismatch(actual)
    }
    return created()
  }

  async function acceptMetadata(p: MetadataPath, req: RegistryRequest): Promise<RegistryReply> {
    if (p.checksum) {
      const content = await req.body.buffer(MAX_CHECKSUM_BYTES)
      if (!parseChecksumFile(content, p.checksum)) throw new InputError(`${p.path}.${p.checksum} does not hold a ${p.checksum} checksum`)
      return created()
    }
    const body = await req.body.buffer(ctx.config.max_pom_bytes)
    if (p.snapshot) validateUploadedMetadata(body, p.snapshot)
    else if (p.artifact) validateUploadedMetadata(body, p.artifact)
    else validateUploadedMetadata(body, {})
    return created()
  }

  return {
    sweep,
    async handlePut(req) {
      const p = parseRepositoryPath(repositoryPath(req))
      if (p.kind === 'metadata') return acceptMetadata(p, req)
      if (p.checksum) return verifyChecksum(p, p.checksum, req)
      if (p.version.endsWith('-SNAPSHOT') && !p.build) {
        // A non-unique SNAPSHOT file would change under the same name with every build.
        throw new InputError(`${p.filename}: deploy SNAPSHOT files with a timestamped build version (${p.artifactId}-${p.version.slice(0, -9)}-yyyyMMdd.HHmmss-N), as Maven 3 does`)
      }
      if (p.extension === 'pom' && !p.classifier) return publishPom(p, req)
      return uploadFile(p, req)
    },
  }
}
