/**
 * TypeBox schemas of the kernel's config.toml keys, and the types of the validated configuration.
 *
 * @remarks
 * Keys are snake_case exactly as operators write them (seed "Configuration"). Every object sets
 * `additionalProperties: false` so a typo is an error, and every optional setting with a sensible
 * value carries it as `default`: `validateConfig` runs `Value.Default` before checking, so keys with a
 * default are declared required and are always present in the validated result.
 *
 * Extra schema options this module uses (plain JSON Schema annotations, ignored by the validator):
 * - `secret: true`: the value is a credential; `redactConfig` replaces it with `"***"`.
 * - `secretUrl: true`: the value is a URL that may embed a password; only the password is redacted.
 * - `errorMessage: { <keyword>: text }`: the message used when that keyword fails (ajv-errors style).
 * - `discriminator: { propertyName }` on a union (OpenAPI style): errors are reported against the
 *   variant the tag selects instead of against every variant.
 */
import Type, { type Static, type TObject } from 'typebox'
import type { Permission, Role } from '@batlehub/sdk'

// ---------------------------------------------------------------------------------------------
// Plugin catalog: what validation needs to know about the loaded plugins.
// ---------------------------------------------------------------------------------------------

/** What the config loader needs to know about one registry plugin. */
export interface RegistryPluginEntry {
  readonly id: string
  /** TypeBox object schema of the plugin's own keys in a `[[registries]]` table (snake_case). */
  readonly configSchema?: TObject
  readonly capabilities: { readonly proxy: boolean; readonly publish: boolean }
  /** Upstreams used when a proxy/hybrid registry of this type gives none. */
  readonly defaultUpstreams?: readonly string[]
}

/** What the config loader needs to know about one auth plugin. */
export interface AuthPluginEntry {
  readonly id: string
  /** TypeBox object schema of the provider's keys in an `[[auth]]` table (all keys but `type`). */
  readonly configSchema?: TObject
}

/** The loaded plugins, keyed by plugin id (the `type` operators write). */
export interface PluginCatalog {
  registry: ReadonlyMap<string, RegistryPluginEntry>
  auth: ReadonlyMap<string, AuthPluginEntry>
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

/** URL-safe names: registry instances (mounted at `/proxy/{name}/`) and storage backends. */
export const NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$'
export const NAME_RULE = "must be URL-safe: lowercase letters, digits, '.', '_' or '-' (1 to 64 characters, starting with a letter or digit)"

const Name = (description: string) =>
  Type.String({ pattern: NAME_PATTERN, description, errorMessage: { pattern: NAME_RULE } })

const HTTP_URL_PATTERN = '^https?://[^\\s/?#]+[^\\s]*$'
const HttpUrl = (description: string, options: Record<string, unknown> = {}) =>
  Type.String({ pattern: HTTP_URL_PATTERN, description, errorMessage: { pattern: 'must be an http(s) URL' }, ...options })

const Path = (description: string) => Type.String({ minLength: 1, description })

const PERMISSION_VALUES = ['releases:read', 'source:read', 'releases:write', '*'] as const satisfies readonly Permission[]
const ROLE_VALUES = ['anonymous', 'user', 'admin'] as const satisfies readonly Role[]

/** One permission of a registry RBAC grant. */
export const PermissionSchema = Type.Enum([...PERMISSION_VALUES], { description: 'A registry permission' })
/** A role name. */
export const RoleSchema = Type.Enum([...ROLE_VALUES], { description: 'A role' })

const Tagged = <T extends TObject[]>(propertyName: string, variants: [...T], options: Record<string, unknown> = {}) =>
  Type.Union(variants, { ...options, discriminator: { propertyName } })

// ---------------------------------------------------------------------------------------------
// [server]
// ---------------------------------------------------------------------------------------------

export const ServerConfig = Type.Object({
  host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Interface to listen on' }),
  port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080, description: 'TCP port (0 = any free port)' }),
  static_dir: Type.Optional(Path('Directory of the web UI build; the bundled UI when absent')),
  cors_allowed_origins: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Origins allowed by CORS' }),
  public_url: Type.Optional(HttpUrl('External base URL used to build links when the hub runs behind a proxy')),
  trust_proxy: Type.Boolean({ default: false, description: 'Believe X-Forwarded-For/-Proto/-Host' }),
  trust_proxy_hops: Type.Integer({
    minimum: 1, default: 1,
    description: 'With trust_proxy: how many proxies stand in front of the hub; the client address is the X-Forwarded-For entry that many places from the right',
  }),
  max_body_bytes: Type.Integer({ minimum: 1, default: 268435456, description: 'Largest request body accepted' }),
  upstream_timeout_secs: Type.Integer({ minimum: 1, default: 30, description: 'Timeout of one upstream request' }),
  data_dir: Type.String({ minLength: 1, default: './data', description: 'Base directory of the default database file and storage' }),
}, { additionalProperties: false, default: {} })
export type ServerConfig = Static<typeof ServerConfig>

// ---------------------------------------------------------------------------------------------
// [database]
// ---------------------------------------------------------------------------------------------

export const DatabaseConfig = Type.Object({
  type: Type.Enum(['sqlite', 'postgresql'], { default: 'sqlite' }),
  url: Type.Optional(Type.String({ minLength: 1, secretUrl: true, description: 'PostgreSQL URL (required for postgresql)' })),
  path: Type.Optional(Path('SQLite file; <data_dir>/batlehub.db when absent')),
  max_connections: Type.Integer({ minimum: 1, default: 10 }),
}, { additionalProperties: false, default: {} })
export type DatabaseConfig = Static<typeof DatabaseConfig>

// ---------------------------------------------------------------------------------------------
// [storage] and [[storage.backends]]
// ---------------------------------------------------------------------------------------------

const filesystemProps = {
  type: Type.Literal('filesystem', { default: 'filesystem' }),
  path: Type.Optional(Path('Root directory; <data_dir>/storage (named backends: <data_dir>/storage-<name>) when absent')),
}
const s3Props = {
  type: Type.Literal('s3'),
  bucket: Type.String({ minLength: 1 }),
  region: Type.String({ minLength: 1, default: 'us-east-1' }),
  endpoint_url: Type.Optional(HttpUrl('Custom S3 endpoint (MinIO, RustFS); alias: endpoint')),
  force_path_style: Type.Boolean({ default: false }),
  access_key_id: Type.Optional(Type.String({ minLength: 1 })),
  secret_access_key: Type.Optional(Type.String({ minLength: 1, secret: true })),
  prefix: Type.Optional(Type.String({ minLength: 1, description: 'Key prefix inside the bucket' })),
}
const backendName = { name: Name('Backend name a registry refers to with `storage = "<name>"`') }

export const FilesystemBackendConfig = Type.Object(filesystemProps, { additionalProperties: false })
export const S3BackendConfig = Type.Object(s3Props, { additionalProperties: false })
/** One storage backend: filesystem (default) or S3. */
export const StorageBackendConfig = Tagged('type', [FilesystemBackendConfig, S3BackendConfig])
export type StorageBackendConfig = Static<typeof StorageBackendConfig>

/** An entry of `[[storage.backends]]`. */
export const NamedStorageBackendConfig = Tagged('type', [
  Type.Object({ ...backendName, ...filesystemProps }, { additionalProperties: false }),
  Type.Object({ ...backendName, ...s3Props }, { additionalProperties: false }),
])
export type NamedStorageBackendConfig = Static<typeof NamedStorageBackendConfig>

const backendsProp = {
  backends: Type.Array(NamedStorageBackendConfig, {
    default: [],
    errorMessage: { type: 'must be an array of tables (write [[storage.backends]])' },
  }),
}
/** `[storage]`: the backend named "default", plus extra named backends. */
export const StorageConfig = Tagged('type', [
  Type.Object({ ...filesystemProps, ...backendsProp }, { additionalProperties: false }),
  Type.Object({ ...s3Props, ...backendsProp }, { additionalProperties: false }),
], { default: {} })
export type StorageConfig = Static<typeof StorageConfig>

// ---------------------------------------------------------------------------------------------
// [cache], [plugins], [logging], [otel], [ip_blocking]
// ---------------------------------------------------------------------------------------------

export const CacheConfig = Type.Object({
  type: Type.Enum(['memory', 'redis', 'postgres'], { default: 'memory' }),
  url: Type.Optional(Type.String({
    pattern: '^rediss?://', secretUrl: true,
    errorMessage: { pattern: 'must be a redis:// or rediss:// URL' },
    description: 'Redis URL (required for redis)',
  })),
  key_prefix: Type.String({ default: 'batlehub:', description: 'Prefix of every Redis key the hub writes (several hubs can share one Redis)' }),
}, { additionalProperties: false, default: {} })
export type CacheConfig = Static<typeof CacheConfig>

export const PluginsConfig = Type.Object({
  dirs: Type.Array(Path('Plugin directory'), { default: [] }),
}, { additionalProperties: false, default: {} })
export type PluginsConfig = Static<typeof PluginsConfig>

export const LoggingConfig = Type.Object({
  level: Type.Enum(['debug', 'info', 'warn', 'error'], { default: 'info' }),
  access_log: Type.Boolean({ default: true, description: 'Log one line per HTTP request' }),
}, { additionalProperties: false, default: {} })
export type LoggingConfig = Static<typeof LoggingConfig>

export const OtelConfig = Type.Object({
  endpoint: Type.Optional(HttpUrl('OTLP endpoint; tracing is off when absent')),
  service_name: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false, default: {} })
export type OtelConfig = Static<typeof OtelConfig>

export const IpBlockingConfig = Type.Object({
  enabled: Type.Boolean({ default: false }),
  violation_threshold: Type.Integer({ minimum: 1, default: 10 }),
  violation_window_secs: Type.Integer({ minimum: 1, default: 300 }),
  ban_duration_secs: Type.Integer({ minimum: 1, default: 3600 }),
  trigger_on_status: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { default: [429, 401] }),
}, { additionalProperties: false, default: {} })
export type IpBlockingConfig = Static<typeof IpBlockingConfig>

// ---------------------------------------------------------------------------------------------
// [rate_limit], [audit] (policy engine; no seed keys exist, designed in the seed's style)
// ---------------------------------------------------------------------------------------------

/** `[[rate_limit.groups]]`: a limit for callers in matching groups (RBAC-style globs). */
export const RateLimitGroupConfig = Type.Object({
  group: Type.String({ minLength: 1, description: 'Group id or glob (`*` matches any run of characters), as in [registries.rbac]' }),
  limit: Type.Integer({ minimum: 0, description: 'Requests per window; 0 = unlimited' }),
  shared: Type.Boolean({ default: false, description: 'One budget for every member of the group (a shared CI-bot bucket) instead of one per member' }),
}, { additionalProperties: false })
export type RateLimitGroupConfig = Static<typeof RateLimitGroupConfig>

export const RateLimitLimitsConfig = Type.Object({
  anonymous: Type.Integer({ minimum: 0, default: 300, description: 'Per client address; 0 = unlimited' }),
  user: Type.Integer({ minimum: 0, default: 1200, description: 'Per user; 0 = unlimited' }),
  admin: Type.Integer({ minimum: 0, default: 0, description: 'Per admin; 0 = unlimited' }),
}, { additionalProperties: false, default: {} })
export type RateLimitLimitsConfig = Static<typeof RateLimitLimitsConfig>

export const RateLimitConfig = Type.Object({
  enabled: Type.Boolean({ default: false }),
  window_secs: Type.Integer({ minimum: 1, default: 60, description: 'Length of the fixed window' }),
  enforcement: Type.Enum(['block', 'warn'], { default: 'block', description: 'block: 429 past the limit; warn: serve and flag' }),
  limits: RateLimitLimitsConfig,
  groups: Type.Array(RateLimitGroupConfig, {
    default: [],
    errorMessage: { type: 'must be an array of tables (write [[rate_limit.groups]])' },
  }),
}, { additionalProperties: false, default: {} })
export type RateLimitConfig = Static<typeof RateLimitConfig>

export const AuditConfig = Type.Object({
  enabled: Type.Boolean({ default: true, description: 'Record every allow and deny decision' }),
  retention_days: Type.Integer({ minimum: 0, default: 90, description: 'Entries older than this are purged; 0 keeps them forever' }),
}, { additionalProperties: false, default: {} })
export type AuditConfig = Static<typeof AuditConfig>

// ---------------------------------------------------------------------------------------------
// [[auth]]
// ---------------------------------------------------------------------------------------------

/**
 * The kernel's view of an `[[auth]]` table: only `type` is the kernel's; the other keys belong to
 * the provider and are validated with its schema.
 */
export const AuthEntryConfig = Type.Object({
  type: Type.String({ minLength: 1, description: 'Auth plugin id' }),
}, { additionalProperties: true })

// ---------------------------------------------------------------------------------------------
// [[registries]]
// ---------------------------------------------------------------------------------------------

export const RbacExploreConfig = Type.Object({
  anonymous: Type.Boolean({ default: true }),
  user: Type.Boolean({ default: true }),
  admin: Type.Boolean({ default: true }),
}, { additionalProperties: false, default: {} })
export type RbacExploreConfig = Static<typeof RbacExploreConfig>

const Grants = Type.Array(PermissionSchema)
/**
 * `[registries.rbac]`: `anonymous`, `user`, `admin` and any group id (globs `*`, `:` and `/`
 * allowed) map to permission lists; `explore` gates the package explorer per role.
 */
export const RbacConfig = Type.Object({
  anonymous: Type.Optional(Grants),
  user: Type.Optional(Grants),
  admin: Type.Optional(Grants),
  explore: RbacExploreConfig,
}, { additionalProperties: Grants })
/** The validated RBAC table. Use {@link rbacGrants} for the role/group grants without `explore`. */
export interface RbacConfig {
  readonly anonymous?: readonly Permission[]
  readonly user?: readonly Permission[]
  readonly admin?: readonly Permission[]
  readonly explore: RbacExploreConfig
  readonly [roleOrGroup: string]: readonly Permission[] | RbacExploreConfig | undefined
}

/** Role and group grants of an RBAC table, without the `explore` subtable. */
export function rbacGrants(rbac: RbacConfig): Record<string, readonly Permission[]> {
  const out: Record<string, readonly Permission[]> = {}
  for (const [key, value] of Object.entries(rbac)) if (key !== 'explore' && Array.isArray(value)) out[key] = value
  return out
}

const READ: Permission[] = ['releases:read', 'source:read']
/** RBAC applied to a registry whose `rbac` table is absent, by mode. */
export function defaultRbac(mode: 'proxy' | 'local' | 'hybrid'): Record<string, Permission[]> {
  return mode === 'proxy'
    ? { anonymous: [...READ], user: [...READ], admin: ['*'] }
    : { user: [...READ], admin: ['*'] }
}

export const RegistryCacheConfig = Type.Object({
  metadata_ttl_secs: Type.Integer({ minimum: 0, default: 300 }),
  serve_stale: Type.Boolean({ default: true }),
  artifact_ttl_secs: Type.Optional(Type.Integer({ minimum: 1 })),
  idle_days: Type.Optional(Type.Integer({ minimum: 1 })),
  max_size_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
  keep_latest_n: Type.Optional(Type.Integer({ minimum: 1 })),
  warm_packages: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  warm_latest_n: Type.Integer({ minimum: 1, default: 1 }),
  warm_concurrency: Type.Integer({ minimum: 1, default: 2 }),
}, { additionalProperties: false, default: {} })
export type RegistryCacheConfig = Static<typeof RegistryCacheConfig>

const bypassRoles = { bypass_roles: Type.Array(RoleSchema, { default: [] }) }
export const RuleConfig = Tagged('kind', [
  Type.Object({ kind: Type.Literal('release_age_gate'), min_age_secs: Type.Integer({ minimum: 0 }), ...bypassRoles }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('deny_latest'), ...bypassRoles }, { additionalProperties: false }),
])
export type RuleConfig = Static<typeof RuleConfig>

export const VersioningConfig = Type.Object({
  enforce_semver: Type.Boolean({ default: false }),
  allow_prerelease: Type.Boolean({ default: true }),
  version_pattern: Type.Optional(Type.String({ description: 'JavaScript regular expression (no flags) every version must match' })),
}, { additionalProperties: false, default: {} })
export type VersioningConfig = Static<typeof VersioningConfig>

export const SigningConfig = Type.Object({
  required: Type.Boolean({ default: false }),
  allowed_types: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
}, { additionalProperties: false, default: {} })
export type SigningConfig = Static<typeof SigningConfig>

export const QuotaConfig = Type.Object({
  max_storage_bytes_per_user: Type.Optional(Type.Integer({ minimum: 0 })),
  max_packages_per_user: Type.Optional(Type.Integer({ minimum: 0 })),
  enforcement: Type.Enum(['block', 'warn'], { default: 'block' }),
}, { additionalProperties: false, default: {} })
export type QuotaConfig = Static<typeof QuotaConfig>

export const BetaChannelConfig = Type.Object({
  enabled: Type.Boolean({ default: false }),
}, { additionalProperties: false, default: {} })
export type BetaChannelConfig = Static<typeof BetaChannelConfig>

export const SbomConfig = Type.Object({
  enabled: Type.Boolean({ default: false }),
  required: Type.Boolean({ default: false }),
}, { additionalProperties: false, default: {} })
export type SbomConfig = Static<typeof SbomConfig>

export const UpstreamAuthConfig = Tagged('type', [
  Type.Object({ type: Type.Literal('bearer'), token: Type.String({ minLength: 1, secret: true }) }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('basic'),
    username: Type.String({ minLength: 1 }),
    password: Type.String({ secret: true }),
  }, { additionalProperties: false }),
  Type.Object({
    type: Type.Literal('header'),
    name: Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", errorMessage: { pattern: 'must be an HTTP header name' } }),
    value: Type.String({ secret: true }),
  }, { additionalProperties: false }),
])
export type UpstreamAuthConfig = Static<typeof UpstreamAuthConfig>

export const TlsConfig = Type.Object({
  ca_cert_path: Type.Optional(Path('Extra CA certificate (PEM) trusted for the upstreams')),
  insecure_skip_verify: Type.Boolean({ default: false }),
}, { additionalProperties: false, default: {} })
export type TlsConfig = Static<typeof TlsConfig>

/**
 * The kernel keys of a `[[registries]]` table. The registry plugin's own keys sit beside them and
 * are validated with the plugin's schema; `upstreams` and `rbac` get their defaults from the plugin
 * and the mode (see {@link RegistryConfig}).
 */
export const RegistryKernelConfig = Type.Object({
  name: Name('Instance name, mounted at /proxy/{name}/'),
  type: Type.String({ minLength: 1, description: 'Registry plugin id' }),
  mode: Type.Enum(['proxy', 'local', 'hybrid'], { default: 'proxy' }),
  upstreams: Type.Optional(Type.Array(HttpUrl('Upstream base URL'), { description: "Tried in order; defaults to the plugin's" })),
  storage: Type.String({ minLength: 1, default: 'default', description: 'Storage backend name' }),
  search_url: Type.Optional(Type.String({
    pattern: '^(https?://[^\\s/?#]+[^\\s]*)?$',
    errorMessage: { pattern: 'must be an http(s) URL, or "" to disable upstream search' },
  })),
  max_artifact_bytes: Type.Optional(Type.Integer({ minimum: 1 })),
  hybrid_merge_upstream: Type.Boolean({
    default: false,
    description: 'Hybrid mode: also serve upstream versions of a name that exists locally (off: the dependency-confusion guard)',
  }),
  rbac: Type.Optional(RbacConfig),
  cache: RegistryCacheConfig,
  rules: Type.Array(RuleConfig, { default: [] }),
  versioning: VersioningConfig,
  signing: SigningConfig,
  quota: QuotaConfig,
  beta_channel: BetaChannelConfig,
  sbom: SbomConfig,
  upstream_auth: Type.Optional(UpstreamAuthConfig),
  tls: TlsConfig,
}, { additionalProperties: false })

/** Kernel keys every registry plugin must leave alone. */
export const REGISTRY_KERNEL_KEYS: readonly string[] = Object.freeze(Object.keys(RegistryKernelConfig.properties))

// ---------------------------------------------------------------------------------------------
// The whole file
// ---------------------------------------------------------------------------------------------

const kernelSections = {
  server: ServerConfig,
  database: DatabaseConfig,
  storage: StorageConfig,
  cache: CacheConfig,
  plugins: PluginsConfig,
  logging: LoggingConfig,
  otel: OtelConfig,
  ip_blocking: IpBlockingConfig,
  rate_limit: RateLimitConfig,
  audit: AuditConfig,
}

/**
 * The kernel's schema of config.toml (for documentation and the OpenAPI document). Registry and
 * auth entries also carry plugin keys, so `validateConfig` checks those entries one by one against
 * the kernel schema plus the plugin's.
 */
export const KernelConfig = Type.Object({
  ...kernelSections,
  auth: Type.Array(AuthEntryConfig, { default: [] }),
  registries: Type.Array(Type.Object(RegistryKernelConfig.properties, { additionalProperties: true }), { default: [] }),
}, { additionalProperties: false })

/** @internal The top-level shape validated in the first pass (entries are checked separately). */
export const TopLevelConfig = Type.Object({
  ...kernelSections,
  auth: Type.Array(Type.Unknown(), { default: [], errorMessage: { type: 'must be an array of tables (write [[auth]])' } }),
  registries: Type.Array(Type.Unknown(), { default: [], errorMessage: { type: 'must be an array of tables (write [[registries]])' } }),
}, { additionalProperties: false })

// ---------------------------------------------------------------------------------------------
// Validated result
// ---------------------------------------------------------------------------------------------

/** Recursively readonly. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T

type RegistryKernelStatic = Static<typeof RegistryKernelConfig>

/** A validated `[[registries]]` entry: kernel keys with defaults, plus the plugin's keys. */
export type RegistryConfig = DeepReadonly<Omit<RegistryKernelStatic, 'upstreams' | 'rbac' | 'mode'> & {
  mode: 'proxy' | 'local' | 'hybrid'
  /** As written, else the plugin's `defaultUpstreams` (proxy/hybrid) or `[]` (local). */
  upstreams: string[]
}> & {
  /** As written, else {@link defaultRbac} for the mode; `explore` always present. */
  readonly rbac: RbacConfig
  /** The plugin's own keys, validated and defaulted with its schema (`{}` without a schema). */
  readonly plugin: Readonly<Record<string, unknown>>
}

/** A validated `[[auth]]` entry. */
export interface AuthConfig {
  readonly type: string
  /** The provider's keys (all but `type`), validated and defaulted with its schema. */
  readonly plugin: Readonly<Record<string, unknown>>
}

/** The validated, defaulted, path-resolved and deeply frozen configuration. */
export type HubConfig = DeepReadonly<{
  server: ServerConfig
  database: DatabaseConfig
  storage: StorageConfig
  cache: CacheConfig
  plugins: PluginsConfig
  logging: LoggingConfig
  otel: OtelConfig
  ip_blocking: IpBlockingConfig
  rate_limit: RateLimitConfig
  audit: AuditConfig
}> & {
  readonly auth: readonly AuthConfig[]
  readonly registries: readonly RegistryConfig[]
}
