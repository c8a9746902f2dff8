/**
 * The last loading step: defaults, schema checks (kernel + plugin schemas), cross-key checks,
 * path resolution, freezing.
 */
import { isAbsolute, join, resolve } from 'node:path'
import type { TObject } from 'typebox'
import Value from 'typebox/value'
import { ConfigError, problem, schemaProblems, withAllErrors, type KeyPath } from './errors.ts'
import { pluginSchemasOf, rememberPluginSchemas } from './redact.ts'
import {
  NAME_PATTERN, REGISTRY_KERNEL_KEYS, RegistryKernelConfig, TopLevelConfig, defaultRbac,
  type HubConfig, type PluginCatalog,
} from './schema.ts'
import { deepFreeze, isTable, toPlain } from './util.ts'

/** Options of {@link validateConfig}. */
export interface ValidateOptions {
  /**
   * Directory relative paths are resolved against: the config file's directory (the working
   * directory for the default config). Default: `process.cwd()`.
   */
  baseDir?: string
  /** Where the config came from, for the ConfigError header. */
  source?: string
}

const NAME_RE = new RegExp(NAME_PATTERN)
const known = (names: Iterable<string>): string => {
  const list = [...names]
  return list.length === 0 ? 'none' : list.join(', ')
}

/**
 * Normalises aliases before validation: `endpoint` (as the seed writes it) → `endpoint_url` in
 * `[storage]` and each `[[storage.backends]]` entry.
 */
function normaliseAliases(input: Record<string, unknown>, errors: string[]): void {
  const storage = input['storage']
  if (!isTable(storage)) return
  const fix = (table: Record<string, unknown>, path: KeyPath): void => {
    if (!('endpoint' in table)) return
    if ('endpoint_url' in table) {
      errors.push(problem([...path, 'endpoint'], 'conflicts with endpoint_url (endpoint is an alias of endpoint_url; keep one)'))
      delete table['endpoint']
      return
    }
    table['endpoint_url'] = table['endpoint']
    delete table['endpoint']
  }
  fix(storage, ['storage'])
  const backends = storage['backends']
  if (Array.isArray(backends)) backends.forEach((b, i) => isTable(b) && fix(b, ['storage', 'backends', i]))
}

function pluginProblems(schema: TObject | undefined, part: Record<string, unknown>, path: KeyPath): { value: Record<string, unknown>; errors: string[] } {
  if (!schema) return { value: {}, errors: Object.keys(part).map((k) => problem([...path, k], 'unknown key')) }
  const value = Value.Default(schema, part) as Record<string, unknown>
  return { value, errors: schemaProblems(schema, value, path) }
}

/**
 * Validates a raw (parsed, overridden) configuration against the kernel schema and the schemas of
 * the plugins in `catalog`, and returns the deeply frozen {@link HubConfig}: defaults applied,
 * registry defaults (upstreams, RBAC) filled from plugin and mode, relative paths resolved
 * against `options.baseDir`. Throws a {@link ConfigError} listing every problem.
 */
export function validateConfig(raw: unknown, catalog: PluginCatalog, options: ValidateOptions = {}): HubConfig {
  return withAllErrors(() => validate(raw, catalog, options))
}

function validate(raw: unknown, catalog: PluginCatalog, options: ValidateOptions): HubConfig {
  if (!isTable(raw)) throw new ConfigError(['(root): must be a table'], options.source)
  const errors: string[] = []
  const input = toPlain(raw)
  normaliseAliases(input, errors)

  // 1. Top level, with [[auth]] and [[registries]] entries left for later.
  const top = Value.Default(TopLevelConfig, input) as Record<string, unknown>
  errors.push(...schemaProblems(TopLevelConfig, top))

  const database = isTable(top['database']) ? top['database'] : {}
  if (database['type'] === 'postgresql') {
    const url = database['url']
    if (url === undefined) errors.push(problem(['database', 'url'], 'required when database.type is "postgresql"'))
    else if (typeof url === 'string' && url !== '' && !/^postgres(ql)?:\/\//i.test(url)) {
      errors.push(problem(['database', 'url'], 'must be a postgres:// or postgresql:// URL'))
    }
  }
  const cache = isTable(top['cache']) ? top['cache'] : {}
  if (cache['type'] === 'redis' && cache['url'] === undefined) errors.push(problem(['cache', 'url'], 'required when cache.type is "redis"'))
  if (cache['type'] === 'postgres' && database['type'] === 'sqlite') {
    errors.push(problem(['cache', 'type'], '"postgres" needs database.type = "postgresql"'))
  }

  // Storage backend names: "default" is the [storage] table itself.
  const backendNames = ['default']
  const storage = isTable(top['storage']) ? top['storage'] : {}
  if (Array.isArray(storage['backends'])) {
    storage['backends'].forEach((b, i) => {
      const name = isTable(b) ? b['name'] : undefined
      if (typeof name !== 'string' || !NAME_RE.test(name)) return
      const path = ['storage', 'backends', i, 'name']
      if (name === 'default') errors.push(problem(path, '"default" is reserved: it names the [storage] backend itself'))
      else if (backendNames.includes(name)) errors.push(problem(path, `duplicate storage backend name "${name}"`))
      else backendNames.push(name)
    })
  }

  // 2. [[auth]]
  const authSchemas: (TObject | undefined)[] = []
  const auth: { type: string; plugin: Record<string, unknown> }[] = []
  const authEntries = Array.isArray(top['auth']) ? top['auth'] : []
  authEntries.forEach((entry, i) => {
    const path: KeyPath = ['auth', i]
    authSchemas.push(undefined)
    if (!isTable(entry)) return void errors.push(problem(path, 'must be a table'))
    const { type, ...rest } = entry
    if (type === undefined) return void errors.push(problem([...path, 'type'], 'required'))
    if (typeof type !== 'string') return void errors.push(problem([...path, 'type'], 'must be string'))
    const plugin = catalog.auth.get(type)
    if (!plugin) {
      return void errors.push(problem([...path, 'type'], `unknown auth provider type "${type}" (known: ${known([...catalog.auth.keys()].sort())})`))
    }
    const checked = pluginProblems(plugin.configSchema, rest, path)
    errors.push(...checked.errors)
    authSchemas[i] = plugin.configSchema
    auth.push({ type, plugin: checked.value })
  })

  // 3. [[registries]]
  const registrySchemas: (TObject | undefined)[] = []
  const registries: Record<string, unknown>[] = []
  const seen = new Set<string>()
  const entries = Array.isArray(top['registries']) ? top['registries'] : []
  entries.forEach((entry, i) => {
    const path: KeyPath = ['registries', i]
    registrySchemas.push(undefined)
    if (!isTable(entry)) return void errors.push(problem(path, 'must be a table'))
    const kernelPart: Record<string, unknown> = {}
    const pluginPart: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(entry)) (REGISTRY_KERNEL_KEYS.includes(k) ? kernelPart : pluginPart)[k] = v
    const reg = Value.Default(RegistryKernelConfig, kernelPart) as Record<string, unknown>
    errors.push(...schemaProblems(RegistryKernelConfig, reg, path))

    const name = reg['name']
    if (typeof name === 'string' && NAME_RE.test(name)) {
      if (seen.has(name)) errors.push(problem([...path, 'name'], `duplicate registry name "${name}"`))
      seen.add(name)
    }
    const storageName = reg['storage']
    if (typeof storageName === 'string' && storageName !== '' && !backendNames.includes(storageName)) {
      errors.push(problem([...path, 'storage'], `unknown storage backend "${storageName}" (known: ${known(backendNames)})`))
    }
    const versioning = reg['versioning']
    if (isTable(versioning) && typeof versioning['version_pattern'] === 'string') {
      try {
        new RegExp(versioning['version_pattern'])
      } catch (err) {
        errors.push(problem([...path, 'versioning', 'version_pattern'], `must be a valid regular expression (${(err as Error).message})`))
      }
    }

    const type = reg['type']
    const mode = reg['mode']
    const validMode = mode === 'proxy' || mode === 'local' || mode === 'hybrid'
    let plugin: Record<string, unknown> = {}
    if (typeof type === 'string' && type !== '') {
      const def = catalog.registry.get(type)
      if (!def) {
        errors.push(problem([...path, 'type'], `unknown registry type "${type}" (known: ${known([...catalog.registry.keys()].sort())})`))
      } else {
        const checked = pluginProblems(def.configSchema, pluginPart, path)
        errors.push(...checked.errors)
        plugin = checked.value
        registrySchemas[i] = def.configSchema
        if (validMode) {
          const missing = [
            mode !== 'local' && !def.capabilities.proxy ? 'proxy' : undefined,
            mode !== 'proxy' && !def.capabilities.publish ? 'publish' : undefined,
          ].filter((m) => m !== undefined)
          if (missing.length > 0) {
            errors.push(problem([...path, 'mode'], `registry type "${type}" cannot run in ${mode} mode (it has no ${missing.join(' or ')} capability)`))
          } else if (mode !== 'local') {
            const written = reg['upstreams']
            if (written === undefined) {
              if ((def.defaultUpstreams ?? []).length === 0) {
                errors.push(problem([...path, 'upstreams'], `required in ${mode} mode (registry type "${type}" has no default upstreams)`))
              }
              reg['upstreams'] = [...(def.defaultUpstreams ?? [])]
            } else if (Array.isArray(written) && written.length === 0) {
              errors.push(problem([...path, 'upstreams'], `must not be empty in ${mode} mode`))
            }
          }
        }
      }
    }
    if (reg['upstreams'] === undefined) reg['upstreams'] = []
    if (reg['rbac'] === undefined && validMode) {
      reg['rbac'] = { ...defaultRbac(mode), explore: { anonymous: true, user: true, admin: true } }
    }
    // Schema order, so listings (admin API, check-config) read like the reference.
    const ordered = Object.fromEntries(REGISTRY_KERNEL_KEYS.filter((k) => reg[k] !== undefined).map((k) => [k, reg[k]]))
    registries.push({ ...ordered, plugin })
  })

  if (errors.length > 0) throw new ConfigError(errors, options.source)

  const config = {
    server: top['server'],
    database: top['database'],
    storage: top['storage'],
    cache: top['cache'],
    plugins: top['plugins'],
    logging: top['logging'],
    otel: top['otel'],
    ip_blocking: top['ip_blocking'],
    rate_limit: top['rate_limit'],
    audit: top['audit'],
    auth,
    registries,
  } as unknown as MutableConfig
  resolvePathsInPlace(config, options.baseDir ?? process.cwd())
  deepFreeze(config)
  rememberPluginSchemas(config, { registries: registrySchemas, auth: authSchemas })
  return config as unknown as HubConfig
}

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

interface MutableConfig {
  server: { data_dir: string; static_dir?: string }
  database: { type: string; path?: string }
  storage: { type: string; path?: string; backends: { type: string; name: string; path?: string }[] }
  plugins: { dirs: string[] }
  registries: { tls: { ca_cert_path?: string } }[]
}

function resolvePathsInPlace(config: MutableConfig, baseDir: string): void {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p))
  const dataDir = abs(config.server.data_dir)
  config.server.data_dir = dataDir
  if (config.server.static_dir !== undefined) config.server.static_dir = abs(config.server.static_dir)
  if (config.database.path !== undefined) config.database.path = abs(config.database.path)
  else if (config.database.type === 'sqlite') config.database.path = join(dataDir, 'batlehub.db')
  if (config.storage.type === 'filesystem') config.storage.path = config.storage.path !== undefined ? abs(config.storage.path) : join(dataDir, 'storage')
  for (const b of config.storage.backends) {
    if (b.type === 'filesystem') b.path = b.path !== undefined ? abs(b.path) : join(dataDir, `storage-${b.name}`)
  }
  config.plugins.dirs = config.plugins.dirs.map(abs)
  for (const r of config.registries) if (r.tls.ca_cert_path !== undefined) r.tls.ca_cert_path = abs(r.tls.ca_cert_path)
}

/**
 * Returns a frozen copy of `config` with every relative path resolved against `baseDir`:
 * `server.data_dir`, `server.static_dir`, `database.path`, `storage.path`, `storage.backends[].path`,
 * `plugins.dirs`, `registries[].tls.ca_cert_path`; missing SQLite and filesystem paths become
 * `<data_dir>/batlehub.db`, `<data_dir>/storage` and `<data_dir>/storage-<name>`.
 * `validateConfig` already does this; absolute paths are left alone, so it is idempotent.
 */
export function resolvePaths(config: HubConfig, baseDir: string): HubConfig {
  const copy = toPlain(config) as unknown as MutableConfig
  resolvePathsInPlace(copy, baseDir)
  deepFreeze(copy)
  const schemas = pluginSchemasOf(config)
  if (schemas) rememberPluginSchemas(copy, schemas)
  return copy as unknown as HubConfig
}
