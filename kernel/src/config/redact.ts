/**
 * Secret redaction for logs and the admin API.
 *
 * @remarks
 * Driven by the schemas: a value whose schema says `secret: true` becomes `"***"`, a `secretUrl`
 * keeps its URL but loses the password. Plugin keys are redacted with the plugin's schema, which
 * `validateConfig` remembers for each config it returns (or which a catalog passed here gives).
 * When neither knows a plugin's schema, keys that look like credentials are redacted instead:
 * a log must never show a secret because a schema was missing.
 */
import type { TObject } from 'typebox'
import {
  AuditConfig, CacheConfig, DatabaseConfig, IpBlockingConfig, LoggingConfig, OtelConfig, PluginsConfig, RateLimitConfig,
  RegistryKernelConfig, ServerConfig, StorageConfig,
  type HubConfig, type PluginCatalog,
} from './schema.ts'
import { isTable, toPlain } from './util.ts'

/** What a redacted secret reads as. */
export const REDACTED = '***'

/** Plugin schemas of the entries of one validated config, by index. */
export interface PluginSchemas {
  readonly registries: readonly (TObject | undefined)[]
  readonly auth: readonly (TObject | undefined)[]
}

const remembered = new WeakMap<object, PluginSchemas>()

/** @internal Called by validateConfig: remembers which plugin schema validated which entry. */
export function rememberPluginSchemas(config: object, schemas: PluginSchemas): void {
  remembered.set(config, schemas)
}
/** @internal */
export function pluginSchemasOf(config: object): PluginSchemas | undefined {
  return remembered.get(config)
}

/** Replaces the password of a URL (`postgresql://u:***@db/x`); an unparsable value is fully redacted. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value)
    if (url.password === '') return value
    url.password = REDACTED
    return url.toString()
  } catch {
    return REDACTED
  }
}

type SchemaNode = Record<string, unknown>

/** Deep copy of `value` with the parts its schema marks secret redacted. */
export function redactWithSchema(schemaObject: object, value: unknown): unknown {
  const schema = schemaObject as SchemaNode
  if (value === undefined) return value
  if (schema['secret'] === true) return REDACTED
  if (schema['secretUrl'] === true && typeof value === 'string') return redactUrl(value)
  let out: unknown = toPlain(value)
  // Unions and intersections: apply every branch; a key is redacted if any branch marks it.
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const branches = schema[key]
    if (Array.isArray(branches)) for (const b of branches) if (isTable(b)) out = redactWithSchema(b, out)
  }
  if (isTable(out)) {
    const props = (isTable(schema['properties']) ? schema['properties'] : {}) as Record<string, SchemaNode>
    const extra = schema['additionalProperties']
    for (const k of Object.keys(out)) {
      const s = Object.hasOwn(props, k) ? props[k] : isTable(extra) ? extra : undefined
      if (s) out[k] = redactWithSchema(s, out[k])
    }
  } else if (Array.isArray(out)) {
    const items = schema['items']
    if (isTable(items)) out = out.map((v) => redactWithSchema(items, v))
  }
  return out
}

const LOOKS_SECRET = /secret|passw|token|credential|private|api_?key|auth_?key/i

/** Fallback for plugin keys without a known schema: redacts keys that look like credentials. */
export function redactByName(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactByName)
  if (!isTable(value)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = LOOKS_SECRET.test(k) ? REDACTED : redactByName(v)
  return out
}

const sections: Record<string, object> = {
  server: ServerConfig, database: DatabaseConfig, storage: StorageConfig, cache: CacheConfig,
  plugins: PluginsConfig, logging: LoggingConfig, otel: OtelConfig, ip_blocking: IpBlockingConfig,
  rate_limit: RateLimitConfig, audit: AuditConfig,
}

/**
 * Returns a deep (unfrozen) copy of a validated config with every secret replaced by `"***"`:
 * kernel fields marked `secret` (S3 `secret_access_key`, `upstream_auth` token/password/value),
 * passwords inside `database.url` and `cache.url`, and plugin fields whose schema marks them
 * `secret`. Plugin schemas come from `catalog` when given, else from the validation that produced
 * `config`, else key names are used (see {@link redactByName}).
 */
export function redactConfig(config: HubConfig, catalog?: PluginCatalog): HubConfig {
  const known = remembered.get(config)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(config)) {
    if (key === 'registries' || key === 'auth') continue
    out[key] = sections[key] ? redactWithSchema(sections[key], value) : redactByName(value)
  }
  const plugin = (schema: TObject | undefined, value: unknown): unknown =>
    schema ? redactWithSchema(schema, value) : redactByName(value)
  out['auth'] = config.auth.map((entry, i) => ({
    type: entry.type,
    plugin: plugin(catalog?.auth.get(entry.type)?.configSchema ?? known?.auth[i], entry.plugin),
  }))
  out['registries'] = config.registries.map((entry, i) => {
    const { plugin: own, ...kernel } = entry
    return {
      ...(redactWithSchema(RegistryKernelConfig, kernel) as Record<string, unknown>),
      plugin: plugin(catalog?.registry.get(entry.type)?.configSchema ?? known?.registries[i], own),
    }
  })
  return out as unknown as HubConfig
}
