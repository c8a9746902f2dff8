/**
 * Database entities for the whole seed feature set: storage references, the local package store,
 * ownership and namespaces, proxied package statuses, the blocklist, the audit log, API tokens, beta
 * channel, IP blocks, rate-limit counters, system key/values, config changes, and plugin records.
 *
 * Written with `defineEntity` (no decorators, no reflection) so that the same definitions serve both
 * dialects and the migration generator.
 */
import { defineEntity, p } from '@mikro-orm/core'

/** A content-addressed blob, reference-counted per storage backend. */
export const StorageBlob = defineEntity({
  name: 'StorageBlob',
  tableName: 'storage_blobs',
  properties: {
    id: p.integer().primary().autoincrement(),
    backend: p.string().length(64),
    sha256: p.string().length(64),
    size: p.bigint('number'),
    refcount: p.integer().default(0),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['backend', 'sha256'] }],
})

/** A logical storage key mapped to a blob. */
export const StorageRef = defineEntity({
  name: 'StorageRef',
  tableName: 'storage_refs',
  properties: {
    id: p.integer().primary().autoincrement(),
    backend: p.string().length(64),
    key: p.string().length(1024),
    sha256: p.string().length(64),
    size: p.bigint('number'),
    contentType: p.string().length(255).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['backend', 'key'] }],
  indexes: [{ properties: ['backend', 'sha256'] }],
})

/** A package hosted in a local or hybrid registry. */
export const LocalPackage = defineEntity({
  name: 'LocalPackage',
  tableName: 'local_packages',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    name: p.string().length(512),
    normalizedName: p.string().length(512),
    visibility: p.string().length(16).default('public'),
    description: p.text().nullable(),
    createdBy: p.string().length(255).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  uniques: [{ properties: ['registry', 'normalizedName'] }],
  indexes: [{ properties: ['registry', 'name'] }],
})

/** A published version of a local package. */
export const LocalVersion = defineEntity({
  name: 'LocalVersion',
  tableName: 'local_versions',
  properties: {
    id: p.integer().primary().autoincrement(),
    package: () => p.manyToOne(LocalPackage).deleteRule('cascade'),
    version: p.string().length(255),
    prerelease: p.boolean().default(false),
    publishedAt: p.datetime(),
    publishedBy: p.string().length(255).nullable(),
    yanked: p.boolean().default(false),
    yankedAt: p.datetime().nullable(),
    yankReason: p.text().nullable(),
    deprecated: p.text().nullable(),
    metadata: p.json<Record<string, unknown>>().nullable(),
    sizeBytes: p.bigint('number').default(0),
    signature: p.text().nullable(),
    signatureType: p.string().length(64).nullable(),
  },
  uniques: [{ properties: ['package', 'version'] }],
})

/** A file of a published version (a tarball, a wheel, a jar, a checksum…). */
export const LocalFile = defineEntity({
  name: 'LocalFile',
  tableName: 'local_files',
  properties: {
    id: p.integer().primary().autoincrement(),
    version: () => p.manyToOne(LocalVersion).deleteRule('cascade'),
    filename: p.string().length(1024),
    storageKey: p.string().length(1024),
    sha256: p.string().length(64),
    size: p.bigint('number'),
    contentType: p.string().length(255).nullable(),
    digests: p.json<Record<string, string>>().nullable(),
    metadata: p.json<Record<string, unknown>>().nullable(),
  },
  uniques: [{ properties: ['version', 'filename'] }],
})

/** A named pointer to a version (npm dist-tags, channels). */
export const PackageTag = defineEntity({
  name: 'PackageTag',
  tableName: 'package_tags',
  properties: {
    id: p.integer().primary().autoincrement(),
    package: () => p.manyToOne(LocalPackage).deleteRule('cascade'),
    tag: p.string().length(255),
    version: p.string().length(255),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  uniques: [{ properties: ['package', 'tag'] }],
})

/** An owner of a local package (seed: Ownership & team management). */
export const PackageOwner = defineEntity({
  name: 'PackageOwner',
  tableName: 'package_owners',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    packageName: p.string().length(512),
    principalType: p.string().length(16),
    principalId: p.string().length(255),
    role: p.string().length(16),
    createdBy: p.string().length(255).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['registry', 'packageName', 'principalType', 'principalId'] }],
})

/** A package-name prefix claimed by a group (seed: Team namespaces). */
export const NamespaceClaim = defineEntity({
  name: 'NamespaceClaim',
  tableName: 'namespace_claims',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    prefix: p.string().length(512),
    groupId: p.string().length(255),
    claimedBy: p.string().length(255).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['registry', 'prefix'] }],
})

/** A proxied package version: access accounting for the explorer, updated in batches. */
export const PackageStatus = defineEntity({
  name: 'PackageStatus',
  tableName: 'package_statuses',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    packageName: p.string().length(512),
    packageVersion: p.string().length(255),
    downloadCount: p.bigint('number').default(0),
    firstSeenAt: p.datetime(),
    lastAccessedAt: p.datetime().nullable(),
    publishedAt: p.datetime().nullable(),
  },
  uniques: [{ properties: ['registry', 'packageName', 'packageVersion'] }],
  indexes: [{ properties: ['registry', 'packageName'] }],
})

/** An artifact held in the proxy cache (for eviction, invalidation and clear-cache). */
export const CachedArtifact = defineEntity({
  name: 'CachedArtifact',
  tableName: 'cached_artifacts',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    storageKey: p.string().length(1024),
    packageName: p.string().length(512),
    packageVersion: p.string().length(255).nullable(),
    sha256: p.string().length(64),
    size: p.bigint('number'),
    upstreamUrl: p.text().nullable(),
    cachedAt: p.datetime(),
    lastAccessedAt: p.datetime().nullable(),
  },
  uniques: [{ properties: ['registry', 'storageKey'] }],
  indexes: [{ properties: ['registry', 'packageName', 'packageVersion'] }, { properties: ['lastAccessedAt'] }],
})

/**
 * A metadata document held in the proxy cache: the index row of a body stored in the CAS under
 * `cache-meta/<registry>/<sha256(key)>`, so that a warm cache survives a restart (and an upstream
 * outage after it).
 */
export const CachedMetadata = defineEntity({
  name: 'CachedMetadata',
  tableName: 'cached_metadata',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    /** sha256 of the cache key: keys may be long, and this is what the storage key is made of. */
    keyHash: p.string().length(64),
    cacheKey: p.text(),
    /** The package the document describes, when the plugin said so (invalidation by package). */
    packageName: p.string().length(512).nullable(),
    storageKey: p.string().length(1024),
    sha256: p.string().length(64),
    size: p.bigint('number'),
    contentType: p.string().length(255),
    etag: p.text().nullable(),
    lastModified: p.string().length(64).nullable(),
    upstream: p.text(),
    fetchedAt: p.datetime(),
    expiresAt: p.datetime(),
  },
  uniques: [{ properties: ['registry', 'keyHash'] }],
  indexes: [{ properties: ['registry', 'packageName'] }],
})

/** A blocked version (seed: Block a package version). */
export const BlockedPackage = defineEntity({
  name: 'BlockedPackage',
  tableName: 'blocked_packages',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    packageName: p.string().length(512),
    version: p.string().length(255),
    reason: p.text().nullable(),
    blockedBy: p.string().length(255).nullable(),
    blockedAt: p.datetime(),
  },
  uniques: [{ properties: ['registry', 'packageName', 'version'] }],
})

/** One access-control decision (seed: Audit log). */
export const AuditEntry = defineEntity({
  name: 'AuditEntry',
  tableName: 'audit_log',
  properties: {
    id: p.string().length(26).primary(),
    timestamp: p.datetime(),
    registry: p.string().length(64).nullable(),
    action: p.string().length(32),
    package: p.string().length(512).nullable(),
    version: p.string().length(255).nullable(),
    userId: p.string().length(255),
    role: p.string().length(16),
    outcome: p.string().length(8),
    rule: p.string().length(64).nullable(),
    reason: p.text().nullable(),
    ip: p.string().length(64).nullable(),
  },
  indexes: [{ properties: ['timestamp'] }, { properties: ['registry', 'outcome', 'timestamp'] }],
})

/** An API token stored as a hash (user-generated tokens and the bootstrap admin token). */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(255),
    tokenHash: p.string().length(128).unique(),
    userId: p.string().length(255),
    role: p.string().length(16),
    groups: p.json<string[]>().nullable(),
    createdBy: p.string().length(255).nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
})

/** A member of a registry's beta (pre-release) channel. */
export const BetaChannelMember = defineEntity({
  name: 'BetaChannelMember',
  tableName: 'beta_channel_members',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    principalType: p.string().length(16),
    principalId: p.string().length(255),
    addedBy: p.string().length(255).nullable(),
    addedAt: p.datetime().onCreate(() => new Date()),
  },
  uniques: [{ properties: ['registry', 'principalType', 'principalId'] }],
})

/** A blocked client address. */
export const IpBlock = defineEntity({
  name: 'IpBlock',
  tableName: 'ip_blocks',
  properties: {
    ip: p.string().length(64).primary(),
    reason: p.text().nullable(),
    source: p.string().length(16),
    blockedBy: p.string().length(255).nullable(),
    blockedAt: p.datetime(),
    expiresAt: p.datetime().nullable(),
  },
})

/** A fixed-window counter of the `postgres` rate-limit store. */
export const RateLimitCounter = defineEntity({
  name: 'RateLimitCounter',
  tableName: 'rate_limit_counters',
  properties: {
    id: p.integer().primary().autoincrement(),
    key: p.string().length(512),
    windowStart: p.bigint('number'),
    count: p.integer().default(0),
    expiresAt: p.datetime(),
  },
  uniques: [{ properties: ['key', 'windowStart'] }],
  indexes: [{ properties: ['expiresAt'] }],
})

/** Shared key/values (banner, bootstrap state). */
export const SystemKv = defineEntity({
  name: 'SystemKv',
  tableName: 'system_kv',
  properties: {
    key: p.string().length(255).primary(),
    value: p.json<unknown>(),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
})

/** A configuration reload, applied or rejected. */
export const ConfigChange = defineEntity({
  name: 'ConfigChange',
  tableName: 'config_changes',
  properties: {
    id: p.integer().primary().autoincrement(),
    at: p.datetime(),
    actor: p.string().length(255).nullable(),
    outcome: p.string().length(16),
    summary: p.json<Record<string, unknown>>().nullable(),
    error: p.text().nullable(),
  },
})

/** A plugin's small JSON record (RecordService). */
export const PluginRecord = defineEntity({
  name: 'PluginRecord',
  tableName: 'plugin_records',
  properties: {
    id: p.integer().primary().autoincrement(),
    registry: p.string().length(64),
    collection: p.string().length(128),
    key: p.string().length(1024),
    value: p.json<unknown>(),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  uniques: [{ properties: ['registry', 'collection', 'key'] }],
})

/** Every entity, in dependency order. */
export const ENTITIES = [
  StorageBlob, StorageRef, LocalPackage, LocalVersion, LocalFile, PackageTag, PackageOwner, NamespaceClaim,
  PackageStatus, CachedArtifact, CachedMetadata, BlockedPackage, AuditEntry, ApiToken, BetaChannelMember, IpBlock,
  RateLimitCounter, SystemKv, ConfigChange, PluginRecord,
]
