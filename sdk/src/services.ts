/**
 * Kernel services as plugins see them. One options object in, a result object out.
 *
 * @packageDocumentation
 */
import type { Readable } from 'node:stream'
import type { RegistryReply, RegistryRequest, SpooledFile } from './http.ts'
import type { Identity, Permission } from './identity.ts'
import type { VersionSummary } from './plugin.ts'

/**
 * Structured logger, labelled with the plugin and registry. Never log secrets.
 *
 * @public
 * @since 1.0.0
 */
export interface LoggerService {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
  child(fields: Record<string, unknown>): LoggerService
}

/** The time source; tests replace it with a controllable clock. @public @since 1.0.0 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

/**
 * A request to the registry's upstreams.
 *
 * @public
 * @since 1.0.0
 */
export interface UpstreamRequest {
  /**
   * Path relative to each upstream base URL (`/lodash`); the request is tried against each configured
   * upstream in order. Mutually exclusive with `url`.
   */
  path?: string
  /**
   * An absolute URL (a tarball URL from a packument). Upstream credentials are only sent when the URL
   * shares its origin with a configured upstream.
   */
  url?: string
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT'
  headers?: Record<string, string>
  body?: string | Buffer
  /** Milliseconds for the whole response head; default `server.upstream_timeout_secs`. */
  timeoutMs?: number
  signal?: AbortSignal
}

/**
 * A response from an upstream. Read the body once: with `stream`, `buffer`, `text` or `json`.
 *
 * @public
 * @since 1.0.0
 */
export interface UpstreamResponse {
  readonly status: number
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The URL that answered. */
  readonly url: string
  /** The upstream base URL that answered (one of the configured upstreams), or the origin for `url`. */
  readonly upstream: string
  stream(): Readable
  buffer(limit?: number): Promise<Buffer>
  text(limit?: number): Promise<string>
  json<T = unknown>(limit?: number): Promise<T>
  /** Discards the body. */
  dispose(): void
}

/**
 * Upstream HTTP, with the registry's `upstream_auth`, `tls` and timeouts applied.
 *
 * @remarks
 * Multi-upstream fanout: with `path`, upstreams are tried in order; a 404 or 410 falls through to
 * the next; a network error, timeout or 5xx is retried on the next. The last 404 is returned when
 * every upstream said 404; when every upstream failed, `UpstreamError` (502) or `UpstreamTimeoutError`
 * (504) is thrown. Other statuses (200, 304, 401, …) are returned as they are.
 *
 * @public
 * @since 1.0.0
 */
export interface HttpService {
  /** The configured upstream base URLs, without trailing slash. */
  readonly upstreams: readonly string[]
  request(req: UpstreamRequest): Promise<UpstreamResponse>
}

/**
 * An object in storage, as the registry sees it.
 *
 * @public
 * @since 1.0.0
 */
export interface StoredObject {
  /** The key as the plugin named it (scoped to the registry by the kernel). */
  readonly key: string
  readonly size: number
  /** Hex sha256 of the content: the content-addressed blob it points to. */
  readonly sha256: string
  readonly contentType?: string
  /** ISO-8601. */
  readonly createdAt: string
}

/** Digest algorithms storage can verify while writing. @public @since 1.0.0 */
export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha512' | 'md5'

/**
 * Storage for one registry: logical keys mapped onto content-addressed blobs.
 *
 * @remarks
 * Writes stream and are atomic: nothing is visible until the body ended and every expected digest
 * matched; an aborted or failing body leaves nothing. Identical bytes under several keys are stored
 * once (`blob/{sha256}`) and reference-counted. Keys are relative paths of `[A-Za-z0-9._~@+=,-]`
 * segments; `..`, empty segments and absolute paths are refused with `InputError`.
 *
 * @public
 * @since 1.0.0
 */
export interface BlobStorageService {
  put(options: {
    key: string
    body: Readable | Buffer | string
    contentType?: string
    /** Expected digests (hex, or base64 for `sha512`/`sha1` SRI values prefixed with the algorithm). */
    expect?: Partial<Record<DigestAlgorithm, string>>
    /** Refuse with `PayloadTooLargeError` past this many bytes. */
    maxBytes?: number
    /** Further digests to compute while writing (sha256 and the expected ones always are). */
    digests?: DigestAlgorithm[]
    signal?: AbortSignal
  }): Promise<StoredObject & { digests: Partial<Record<DigestAlgorithm, string>> & { sha256: string } }>
  head(key: string): Promise<StoredObject | null>
  /** A stream of the object (or of `range`, inclusive bounds), or null when absent. */
  get(key: string, options?: { range?: { start: number; end?: number } }): Promise<{ object: StoredObject; body: Readable } | null>
  /** Removes the key; the blob goes when its last key goes. Returns whether the key existed. */
  delete(key: string): Promise<boolean>
  /** Keys under a prefix, in key order. */
  list(prefix: string): AsyncIterable<StoredObject>
  /**
   * Answers a download of a stored object with Range, ETag (the sha256) and 304 support.
   * Returns null when the key is absent.
   */
  serve(options: { key: string; request: RegistryRequest; contentType?: string; headers?: Record<string, string> }): Promise<RegistryReply | null>
}

/**
 * Small JSON records owned by this registry instance (indexes, upload sessions, plugin state).
 *
 * @public
 * @since 1.0.0
 */
export interface RecordService {
  get<T = unknown>(collection: string, key: string): Promise<T | null>
  put<T = unknown>(collection: string, key: string, value: T): Promise<void>
  delete(collection: string, key: string): Promise<boolean>
  list<T = unknown>(collection: string, options?: { prefix?: string; limit?: number; after?: string }): Promise<Array<{ key: string; value: T }>>
}

/**
 * A request for one package version (a download, a version's metadata) or for a tag, as
 * {@link PolicyService.checkArtifact} checks it.
 *
 * @public
 * @since 1.0.0
 */
export interface ArtifactCheck {
  readonly identity: Identity
  /** The package name as the client wrote it; the kernel normalises it with the `normalizeName` hook. */
  readonly name: string
  /** The exact version, when the request names one. */
  readonly version?: string
  /**
   * ISO-8601 publish time of `version`, when the protocol gives one. Without it the release-age
   * gate lets the version through (and the audit entry says it was skipped).
   */
  readonly publishedAt?: string
  /**
   * The tag the client asked for instead of a version (`latest` in npm's `GET /{name}/latest`,
   * `@latest` in Go's proxy protocol). `deny_latest` refuses exactly `latest` and `@latest`.
   */
  readonly requestedTag?: string
  /** The client address, for the audit log (`req.ip`). */
  readonly ip?: string
  /** What the request does, for the audit log. Default `download`. */
  readonly action?: string
}

/**
 * A version the policy refuses, and why.
 *
 * @public
 * @since 1.0.0
 */
export interface PolicyDenial {
  readonly version: string
  /** `blocklist`, `release_age_gate`. */
  readonly rule: string
  readonly reason: string
}

/**
 * Input of {@link PolicyService.filterVersions}.
 *
 * @public
 * @since 1.0.0
 */
export interface VersionFilterInput {
  readonly identity: Identity
  readonly name: string
  /**
   * Every version of the document being rendered, **newest first in the protocol's version order**
   * (a tag whose version is refused moves to the next allowed version after it in this list). Pass
   * the same array object for the same cached document: the kernel memoises the parsed publish
   * times per array.
   */
  readonly versions: readonly VersionSummary[]
  /**
   * Tags pointing at versions (npm `dist-tags`; Maven `latest`/`release`). Name the protocol's
   * "newest" pointer `latest` so that `deny_latest` can remove it.
   */
  readonly tags?: Readonly<Record<string, string>>
}

/**
 * What a listing may show to one caller.
 *
 * @remarks
 * When `changed` is false (no rule and no block touches this package for this caller — the common
 * case) `allowed` and `tags` are the very objects passed in: serve the memoised document untouched.
 * Otherwise re-render without the `denied` versions and with `tags`, and memoise the rendering by
 * `fingerprint`, which is equal for equal outcomes.
 *
 * @public
 * @since 1.0.0
 */
export interface VersionFilterResult {
  readonly changed: boolean
  readonly allowed: readonly VersionSummary[]
  readonly denied: readonly PolicyDenial[]
  /** The tags to publish: tags of refused versions moved to the next allowed version or removed; `latest` removed under `deny_latest`. */
  readonly tags: Readonly<Record<string, string>>
  /** Tags that changed: the new version, or null when removed. */
  readonly movedTags: Readonly<Record<string, string | null>>
  /** `''` when unchanged; else a short stable hash of the outcome. */
  readonly fingerprint: string
}

/**
 * A blocked version (seed "Block a package version").
 *
 * @public
 * @since 1.0.0
 */
export interface BlockedVersionInfo {
  readonly version: string
  readonly reason: string | null
  readonly blockedBy: string | null
  /** ISO-8601. */
  readonly blockedAt: string
}

/**
 * Policy decisions for this registry.
 *
 * @remarks
 * The kernel applies IP blocks, rate limits and RBAC before a route handler runs. The proxy cache
 * (`ctx.cache.artifact` with `name`/`version`) and the local store (`ctx.packages.serveFile`) call
 * {@link PolicyService.checkArtifact} themselves; a plugin calls it for downloads it serves another
 * way, and for requests that name a tag. Listings and metadata go through
 * {@link PolicyService.filterVersions} so that clients resolve to versions they may download.
 *
 * @public
 * @since 1.0.0
 */
export interface PolicyService {
  /** Whether the identity holds the permission on this registry (role, inherited roles, group grants). */
  can(identity: Identity, permission: Permission): boolean
  /**
   * Throws `AuthenticationError` (401) for an anonymous caller without the permission, and
   * `NotAllowedError` (403) for a known caller without it.
   */
  assert(identity: Identity, permission: Permission): void
  /**
   * Checks a request for a version (or a tag) against the blocklist and the registry's rules, and
   * records the decision in the audit log. Throws `NotAllowedError` (403, `details.rule` and
   * `details.reason` set) when refused: a blocked version is refused to everyone, admins included.
   *
   * @since 1.0.0
   */
  checkArtifact(check: ArtifactCheck): Promise<void>
  /**
   * Which versions and tags of a listing the caller may see (blocked and too-young versions are left
   * out so that clients pick the newest allowed one). No I/O, no audit entry.
   *
   * @since 1.0.0
   */
  filterVersions(input: VersionFilterInput): VersionFilterResult
  /**
   * Whether {@link PolicyService.filterVersions} could change anything for this caller and package:
   * a version of it is blocked, or a release-age gate or `deny_latest` applies to the caller. False
   * in the common case, so that a plugin serves its cached document without even parsing it.
   *
   * @since 1.0.0
   */
  mayFilter(input: { identity: Identity; name: string }): boolean
  /**
   * The release-age gate that applies to this caller, in seconds; 0 when none (no gate, or the
   * caller's role bypasses it). A plugin whose documents lack publish times (npm's abbreviated
   * packuments) looks them up only when this is above 0.
   *
   * @since 1.0.0
   */
  minReleaseAgeSecs(identity: Identity): number
  /**
   * The block of a version, or null. For UI and explorer-style listings that show why a version is
   * missing (show the reason to administrators only).
   *
   * @since 1.0.0
   */
  blocked(name: string, version: string): BlockedVersionInfo | null
}

/**
 * Limits applied while reading an archive: hostile archives (zip bombs, path escapes) are refused
 * with `InputError` before they cost memory or disk.
 *
 * @public
 * @since 1.0.0
 */
export interface ArchiveLimits {
  /** Most entries (default 10 000). */
  maxEntries?: number
  /** Most uncompressed bytes over all entries (default 1 GiB). */
  maxTotalBytes?: number
  /** Most uncompressed bytes of one entry (default 256 MiB). */
  maxEntryBytes?: number
  /** Every entry name must start with this prefix (`{module}@{version}/`, `package/`). */
  requirePrefix?: string
}

/**
 * One entry of an archive. Names are normalised (`/` separators, no leading `./`) and have already
 * been checked: never absolute, never `..`, never a backslash or NUL, unique.
 *
 * @public
 * @since 1.0.0
 */
export interface ArchiveEntry {
  readonly name: string
  readonly type: 'file' | 'directory'
  /** Declared uncompressed size (enforced while reading). */
  readonly size: number
}

/**
 * Safe archive reading for upload and artifact inspection (wheels, jars, module zips, crates,
 * npm tarballs…). Symbolic links, hard links, device files and path escapes are refused.
 *
 * @public
 * @since 1.0.0
 */
export interface ArchiveService {
  /**
   * Visits every entry of a zip file. `read()` returns the entry's bytes (bounded by the limits);
   * return `'stop'` to end early. Refuses malformed zips, escapes, symlinks, duplicate names
   * (case-sensitively) and bombs.
   */
  zip(path: string, limits: ArchiveLimits, visit: (entry: ArchiveEntry, read: () => Promise<Buffer>) => Promise<void | 'stop'> | void | 'stop'): Promise<void>
  /**
   * Visits every entry of a tar stream (`gzip: true` for .tar.gz/.tgz/.crate). `read()` returns the
   * entry's bytes; entries not read are skipped.
   */
  tar(source: import('node:stream').Readable | Buffer, limits: ArchiveLimits & { gzip?: boolean }, visit: (entry: ArchiveEntry, read: () => Promise<Buffer>) => Promise<void | 'stop'> | void | 'stop'): Promise<void>
  /** Writes a stream to a temporary file with digests (see RequestBody.spool). */
  spool(source: import('node:stream').Readable | Buffer, limit?: number): Promise<SpooledFile>
}
