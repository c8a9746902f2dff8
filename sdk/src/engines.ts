/**
 * The kernel's two generic engines, as registry plugins see them: the proxy/cache engine
 * (`ctx.cache`) and the local package store (`ctx.packages`). They are protocol-agnostic: a plugin
 * says which upstream URL, cache key, digest and publish time belong to a request, and renders its
 * own index formats; the kernel does caching, single-flight, verification, storage, accounting,
 * ownership and events.
 *
 * @packageDocumentation
 */
import type { Readable } from 'node:stream'
import type { RegistryReply, RegistryRequest } from './http.ts'
import type { Identity } from './identity.ts'
import type { DigestAlgorithm, UpstreamRequest } from './services.ts'

/**
 * Token a plugin writes in stored metadata wherever the hub's own URL of this registry belongs
 * (`"tarball": "@@BATLEHUB_BASE_URL@@/lodash/-/lodash-4.17.21.tgz"`). {@link ProxyCacheService.serveMetadata}
 * replaces it with the request's base URL; the rendered bytes are memoised per base URL, so a hot
 * metadata request costs no parse and no copy.
 *
 * @public
 * @since 1.0.0
 */
export const BASE_URL_PLACEHOLDER = '@@BATLEHUB_BASE_URL@@'

/**
 * A metadata document to fetch through the cache.
 *
 * @public
 * @since 1.0.0
 */
export interface MetadataRequest {
  /**
   * Cache key, unique within the registry: include every variant the upstream serves differently
   * (`packument/abbrev/lodash` vs `packument/full/lodash`).
   */
  key: string
  /** The upstream request (path fanout or absolute URL, plus headers such as `accept`). */
  upstream: UpstreamRequest
  /**
   * The package this document describes, when it describes one (a packument, a simple-index
   * page, a sparse-index file). An administrator's package invalidation
   * (`POST /api/v1/admin/packages/invalidate`) then drops it too; without it the kernel can only
   * guess from the key (a key ending in `/<name>`).
   */
  name?: string
  /**
   * Turns the upstream body into the stored form, once per fetch (never per client request): rewrite
   * URLs to {@link BASE_URL_PLACEHOLDER}, drop fields, normalise. Return null to treat the document as
   * absent.
   */
  transform?(body: Buffer, info: { status: number; headers: Readonly<Record<string, string | undefined>>; upstream: string }): Buffer | string | null | Promise<Buffer | string | null>
  /** Stored content type; default: the upstream's. */
  contentType?: string
  /** Overrides the registry's `cache.metadata_ttl_secs` for this document. */
  ttlSecs?: number
  /** Largest upstream document accepted (default 64 MiB). */
  maxBytes?: number
  signal?: AbortSignal
}

/**
 * A metadata document as cached.
 *
 * @public
 * @since 1.0.0
 */
export interface MetadataEntry {
  readonly key: string
  /** The stored (transformed) bytes, with {@link BASE_URL_PLACEHOLDER} where the hub's URL goes. */
  readonly body: Buffer
  readonly contentType: string
  /** Epoch milliseconds of the last successful fetch or revalidation. */
  readonly fetchedAt: number
  /** `fresh` within TTL, `revalidated` (304 from upstream), `fetched`, or `stale` (upstream failed, served anyway). */
  readonly state: 'fresh' | 'revalidated' | 'fetched' | 'stale'
  /** The upstream base URL that answered. */
  readonly upstream: string
}

/**
 * An artifact to serve through the cache.
 *
 * @public
 * @since 1.0.0
 */
export interface ArtifactRequest {
  /** Storage key of the artifact within the registry (`tarballs/lodash/lodash-4.17.21.tgz`). */
  key: string
  /** Package name (access accounting, explorer, policy). */
  name: string
  /** Package version, when the URL identifies one. */
  version?: string
  /** Where to fetch it on a miss. Requested without content decoding. */
  upstream: UpstreamRequest
  /**
   * Digests the protocol declares (npm `dist.integrity`/`shasum`, PyPI `sha256`, Cargo `cksum`): verified
   * before anything is committed. Hex, base64, or SRI (`sha512-…`).
   */
  expect?: Partial<Record<DigestAlgorithm, string>>
  contentType?: string
  /** Largest artifact accepted; default the registry's `max_artifact_bytes`, else the server's body limit. */
  maxBytes?: number
  /** Extra headers on the reply (protocol-specific). */
  headers?: Record<string, string>
  /** ISO-8601 publish time, when the protocol gives one (kept for the explorer and the age gate). */
  publishedAt?: string
}

/**
 * The proxy/cache engine for one registry instance (`ctx.cache`).
 *
 * @remarks
 * Metadata: cached per key for `cache.metadata_ttl_secs` (default 300), revalidated with
 * ETag/Last-Modified, honouring upstream `Cache-Control` (`no-store` is never stored, `no-cache`
 * always revalidates, `max-age` shortens the TTL); with `cache.serve_stale` (default true) an upstream
 * failure serves the cached copy with a `Warning: 110` header. Concurrent requests for one key share
 * one upstream fetch.
 *
 * Artifacts: a hit streams from storage with Range, ETag and 304. A miss makes exactly one upstream
 * fetch however many clients ask at once; the bytes stream to every waiting client and to storage
 * together; declared digests are verified before the artifact is committed (on mismatch clients get
 * a truncated response or a 502 and nothing is stored); an upstream failure or the departure of every
 * client leaves nothing behind. Accounting (downloads per version, last access, hit/miss and bytes
 * metrics) is batched off the hot path.
 *
 * @public
 * @since 1.0.0
 */
export interface ProxyCacheService {
  /** The document for a key, from cache or upstream; null when every upstream says 404/410. */
  metadata(req: MetadataRequest): Promise<MetadataEntry | null>
  /**
   * Answers a client with a cached document: placeholders replaced with `req.baseUrl` (or
   * `replacements`), `Content-Length`, a strong ETag with 304 support, the stale warning when due,
   * and `X-Cache: HIT | MISS | REVALIDATED | STALE` from the entry's state.
   */
  serveMetadata(entry: MetadataEntry, req: RegistryRequest, options?: { contentType?: string; status?: number; headers?: Record<string, string>; replacements?: Record<string, string> }): RegistryReply
  /** Drops a cached document (and its rendered copies). */
  invalidateMetadata(key: string): Promise<void>
  /** Serves an artifact, from storage or (once) from upstream. */
  artifact(req: ArtifactRequest, client: RegistryRequest): Promise<RegistryReply>
  /** Whether an artifact is in the cache. */
  hasArtifact(key: string): Promise<boolean>
  /**
   * Fetches and stores an artifact without a client (cache warming). Returns `cached` when it was
   * already there.
   */
  prefetch(req: ArtifactRequest): Promise<'fetched' | 'cached'>
}

/**
 * A file handed to {@link LocalStoreService.publish}.
 *
 * @public
 * @since 1.0.0
 */
export interface PublishFile {
  /** File name as clients will request it (`left-pad-1.0.0.tgz`); unique within the version. */
  filename: string
  body: Readable | Buffer | string
  contentType?: string
  /** Digests the client declared; a mismatch refuses the whole publish (`IntegrityError`). */
  expect?: Partial<Record<DigestAlgorithm, string>>
  /** Protocol data kept with the file (wheel tags, classifier…). */
  metadata?: Record<string, unknown>
}

/**
 * A publish request, already parsed from the protocol's upload format.
 *
 * @public
 * @since 1.0.0
 */
export interface PublishInput {
  name: string
  version: string
  identity: Identity
  files: PublishFile[]
  /** Protocol metadata of the version (the manifest, the index line…), plain JSON. */
  metadata?: Record<string, unknown>
  description?: string
  /** Tags to point at this version (`latest`). */
  tags?: Record<string, string>
  /** ISO-8601; default now. */
  publishedAt?: string
  /** From `X-Artifact-Signature` / `X-Signature-Type`, when the client sent them. */
  signature?: { value: string; type: string }
  /**
   * Add files to an existing version instead of refusing it (protocols that upload one file per
   * request, such as Maven and PyPI). A file name already present is still a conflict.
   */
  appendToExisting?: boolean
  /**
   * Whether the version is a pre-release by the protocol's own rules (PEP 440, Maven `-SNAPSHOT`).
   * Default: the semver pre-release tag when the version is semver, else common pre-release
   * markers (`a1`, `rc2`, `.dev3`, `-beta`, `-SNAPSHOT`…). Checked against
   * `versioning.allow_prerelease` and stored as `LocalVersionInfo.prerelease`.
   *
   * @since 1.0.0
   */
  prerelease?: boolean
  /**
   * Aborts the publish (the request's `signal`): files stop streaming and nothing is stored.
   *
   * @since 1.0.0
   */
  signal?: AbortSignal
}

/** A stored file of a local version. @public @since 1.0.0 */
export interface LocalFileInfo {
  readonly filename: string
  readonly size: number
  readonly sha256: string
  readonly digests: Readonly<Record<string, string>>
  readonly contentType?: string
  readonly metadata?: Readonly<Record<string, unknown>>
}

/** A version of a local package. @public @since 1.0.0 */
export interface LocalVersionInfo {
  readonly version: string
  readonly publishedAt: string
  readonly publishedBy?: string
  readonly yanked: boolean
  readonly yankReason?: string
  readonly deprecated?: string
  readonly prerelease: boolean
  readonly metadata: Readonly<Record<string, unknown>>
  readonly files: readonly LocalFileInfo[]
  readonly signature?: { value: string; type: string }
}

/** A local package with every version (newest published first) and its tags. @public @since 1.0.0 */
export interface LocalPackageInfo {
  readonly name: string
  readonly normalizedName: string
  readonly description?: string
  readonly visibility: 'public' | 'internal' | 'team'
  readonly createdAt: string
  readonly updatedAt: string
  readonly versions: readonly LocalVersionInfo[]
  readonly tags: Readonly<Record<string, string>>
}

/** Result of a publish. @public @since 1.0.0 */
export interface PublishResult {
  readonly name: string
  readonly version: string
  /** Whether this publish created the package (the publisher became its admin owner). */
  readonly created: boolean
  readonly files: readonly LocalFileInfo[]
  /** `X-Quota-*` headers to send back. */
  readonly headers: Readonly<Record<string, string>>
}

/** An owner record (seed: Ownership). @public @since 1.0.0 */
export interface OwnerInfo {
  readonly principalType: 'user' | 'group'
  readonly principalId: string
  readonly role: 'admin' | 'maintainer'
}

/**
 * The local (private) package store of one registry instance (`ctx.packages`), for modes `local`
 * and `hybrid`.
 *
 * @remarks
 * Names are compared in the plugin's normalised form (`normalizeName` hook). Publishing checks
 * `releases:write`, the versioning policy (422), namespace claims and ownership (403: the first
 * publisher of a package becomes its admin owner, later publishes need an owner record), signing
 * (400/403) and quota (403/413 or a warning header); stores the files (content-addressed), writes the
 * rows in one transaction, emits `core:package.published`. A repeated version is 409.
 *
 * @public
 * @since 1.0.0
 */
export interface LocalStoreService {
  publish(input: PublishInput): Promise<PublishResult>
  /**
   * The package with all versions, or null. Yanked versions are included and flagged. With
   * `identity`, a package the caller may not see (visibility `internal`/`team`) is null, as if absent.
   * Served from the same short-lived cache as {@link LocalStoreService.getVersion}.
   */
  getPackage(name: string, options?: { identity?: Identity }): Promise<LocalPackageInfo | null>
  /**
   * One version of a package (yanked versions included and flagged), or null when the package or
   * the version (compared exactly as stored) does not exist. With `identity`, a version of a
   * package the caller may not see is null, as if absent. Prefer this to `getPackage` for plain
   * lookups (a checksum, one index entry): the kernel keeps recently read packages in a short-lived
   * in-process cache, forgotten on every change through this service, so a lookup rarely queries
   * the database. Changes made by another replica may take up to about 30 seconds to show.
   * @since 1.0.0
   */
  getVersion(name: string, version: string, options?: { identity?: Identity }): Promise<LocalVersionInfo | null>
  /** Whether a package of this name exists locally (the hybrid-mode dependency-confusion guard). */
  exists(name: string): Promise<boolean>
  /**
   * Packages whose name contains `query` (case-insensitive; `''` lists every package), most
   * recently updated first. `limit` defaults to 20. With `identity`, packages the
   * caller may not see are left out, as in {@link LocalStoreService.getPackage}. `latest` is the
   * `latest` tag, else the newest non-yanked version.
   */
  search(query: string, options?: { limit?: number; offset?: number; identity?: Identity }): Promise<{ total: number; items: Array<{ name: string; description?: string; latest?: string; updatedAt: string }> }>
  /**
   * Streams a file with Range/ETag/304 and the signature headers (`X-Artifact-Signature`,
   * `X-Signature-Type`); null when absent or not visible to `req.identity`. Downloads are counted.
   */
  serveFile(name: string, version: string, filename: string, req: RegistryRequest, options?: { contentType?: string; headers?: Record<string, string> }): Promise<RegistryReply | null>
  /** Reads a file (for plugins that must look inside an uploaded archive). */
  openFile(name: string, version: string, filename: string): Promise<Readable | null>
  yank(name: string, version: string, options: { identity: Identity; reason?: string }): Promise<void>
  unyank(name: string, version: string, options: { identity: Identity }): Promise<void>
  /** Sets (or, with an empty message, clears) a deprecation message. */
  deprecate(name: string, version: string, options: { identity: Identity; message: string }): Promise<void>
  /** Deletes one version (or, without version, the whole package) and its files. */
  delete(name: string, version: string | undefined, options: { identity: Identity }): Promise<void>
  setTag(name: string, tag: string, version: string, options: { identity: Identity }): Promise<void>
  removeTag(name: string, tag: string, options: { identity: Identity }): Promise<void>
  owners(name: string): Promise<OwnerInfo[]>
  addOwner(name: string, owner: OwnerInfo, options: { identity: Identity }): Promise<void>
  removeOwner(name: string, owner: Pick<OwnerInfo, 'principalType' | 'principalId'>, options: { identity: Identity }): Promise<void>
  /** Whether the identity may publish/manage this existing package (owner, group owner, or admin). */
  canManage(name: string, identity: Identity): Promise<boolean>
}
