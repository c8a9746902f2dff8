/**
 * Loading config.toml (DESIGN §8): read → `${VAR}` substitution → parse → `PROXY_CACHE__*`
 * overrides → validate. Each step is a separate function so each can be tested and reused (hot
 * reload, `batlehub check-config`).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse, TomlError } from 'smol-toml'
import { defaultConfig } from './defaults.ts'
import { ConfigError } from './errors.ts'
import type { HubConfig, PluginCatalog } from './schema.ts'
import { isTable, mergeTables, toPlain } from './util.ts'
import { validateConfig } from './validate.ts'

export { ConfigError } from './errors.ts'
export { validateConfig, resolvePaths, type ValidateOptions } from './validate.ts'

/** Environment variables, as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>

/** The `source` of a configuration built from defaults because no file exists. */
export const DEFAULTS_SOURCE = '<defaults>'

// ---------------------------------------------------------------------------------------------
// 1. read
// ---------------------------------------------------------------------------------------------

/** Reads the config file as UTF-8 (a leading BOM is dropped). */
export function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/^\uFEFF/, '')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new ConfigError([`config file not found: ${path}`], path)
    if (code === 'EISDIR') throw new ConfigError([`config file is a directory: ${path}`], path)
    throw new ConfigError([`cannot read config file ${path}: ${(err as Error).message}`], path)
  }
}

// ---------------------------------------------------------------------------------------------
// 2. ${VAR} substitution
// ---------------------------------------------------------------------------------------------

type Context = 'bare' | 'basic' | 'ml-basic' | 'literal' | 'ml-literal'

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/y

/** Escapes a value for a TOML basic string: TOML's escapes are a subset JSON's writer also uses. */
function escapeBasic(value: string): string {
  return JSON.stringify(value).slice(1, -1).replace(/\x7f/g, '\\u007F')
}

/**
 * Replaces `${VAR_NAME}` with the value of the environment variable; `$${` stands for a literal
 * `${`. A variable that is not set is an error (no empty-string fallback).
 *
 * @remarks
 * The scan is TOML-aware so that a secret's value is inserted exactly, whatever it contains:
 * - inside `"..."` / `"""..."""` the value is escaped (quotes, backslashes, control characters);
 * - inside `'...'` / `'''...'''` (no escapes in TOML) a value that cannot be written there is an error;
 * - outside strings the value is inserted as is (`port = ${PORT}`);
 * - comments are left alone, so a commented-out placeholder needs no variable.
 * A `${` that does not start a well-formed placeholder is an error: write `$${` for a literal one.
 *
 * @param source - shown in error messages (`<source>:<line>: …`); errors read `line <n>: …` without it.
 * @throws ConfigError listing every missing variable and malformed placeholder.
 */
export function substituteEnv(text: string, env: Env, source?: string): string {
  const errors: string[] = []
  let out = ''
  let line = 1
  let i = 0
  const n = text.length
  const at = (): string => (source ? `${source}:${line}` : `line ${line}`)

  // Handles a `$` at position i; returns the number of characters consumed.
  const dollar = (ctx: Context): number => {
    if (text.startsWith('$${', i)) {
      out += '${'
      return 3
    }
    if (!text.startsWith('${', i)) {
      out += '$'
      return 1
    }
    PLACEHOLDER.lastIndex = i
    const m = PLACEHOLDER.exec(text)
    if (!m) {
      const snippet = /^\$\{[^}\n"']{0,40}\}?/.exec(text.slice(i))?.[0] ?? '${'
      errors.push(`${at()}: malformed placeholder ${JSON.stringify(snippet)} (write \${NAME} with NAME made of letters, digits and '_', or $\${ for a literal "\${")`)
      out += '${'
      return 2
    }
    const name = m[1]!
    const value = env[name]
    if (value === undefined) {
      errors.push(`${at()}: environment variable ${name} is not set`)
    } else if (ctx === 'basic' || ctx === 'ml-basic') {
      out += escapeBasic(value)
    } else if (ctx === 'literal' && /['\r\n\x00-\x08\x0a-\x1f\x7f]/.test(value)) {
      errors.push(`${at()}: the value of ${name} cannot be written inside a '...' string (it contains a single quote or a control character); use a "..." string`)
    } else if (ctx === 'ml-literal' && (value.includes("'''") || /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(value))) {
      errors.push(`${at()}: the value of ${name} cannot be written inside a '''...''' string (it contains ''' or a control character); use a """...""" string`)
    } else {
      out += value
    }
    return m[0].length
  }

  while (i < n) {
    const c = text[i]!
    if (c === '#') {
      let end = text.indexOf('\n', i)
      if (end === -1) end = n
      out += text.slice(i, end)
      i = end
      continue
    }
    if (c === '"' || c === "'") {
      const multi = text.startsWith(c.repeat(3), i)
      const ctx: Context = c === '"' ? (multi ? 'ml-basic' : 'basic') : (multi ? 'ml-literal' : 'literal')
      const open = multi ? 3 : 1
      out += text.slice(i, i + open)
      i += open
      while (i < n) {
        const ch = text[i]!
        if (ch === '\\' && (ctx === 'basic' || ctx === 'ml-basic')) {
          const pair = text.slice(i, i + 2)
          if (pair.endsWith('\n')) line++
          out += pair
          i += pair.length
          continue
        }
        if (ch === '\n' && !multi) break // unterminated: the parser reports it
        if (ch === c) {
          if (!multi) {
            out += ch
            i++
            break
          }
          if (text.startsWith(c.repeat(3), i)) {
            // Up to two quotes right before the closing delimiter belong to the string.
            let run = 0
            while (run < 5 && text[i + run] === c) run++
            out += text.slice(i, i + run)
            i += run
            break
          }
        }
        if (ch === '$') {
          i += dollar(ctx)
          continue
        }
        if (ch === '\n') line++
        out += ch
        i++
      }
      continue
    }
    if (c === '$') {
      i += dollar('bare')
      continue
    }
    if (c === '\n') line++
    out += c
    i++
  }
  if (errors.length > 0) throw new ConfigError(errors, source)
  return out
}

// ---------------------------------------------------------------------------------------------
// 3. parse
// ---------------------------------------------------------------------------------------------

/**
 * Parses TOML into plain objects (smol-toml's null-prototype tables are copied into ordinary ones).
 * Syntax errors name the file, line and column: `<source>:<line>:<column>: <reason>`.
 */
export function parseToml(text: string, source: string): Record<string, unknown> {
  try {
    return toPlain(parse(text, { unsafeKeyBehaviour: 'throw' })) as Record<string, unknown>
  } catch (err) {
    if (err instanceof TomlError) {
      let reason = err.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '')
      if (reason.includes('unsafe property')) reason += ' (keys named __proto__ or constructor are not allowed)'
      throw new ConfigError([`${source}:${err.line}:${err.column}: invalid TOML: ${reason}`], source)
    }
    throw err
  }
}

// ---------------------------------------------------------------------------------------------
// 4. PROXY_CACHE__* overrides
// ---------------------------------------------------------------------------------------------

/** One supported `PROXY_CACHE__*` variable (seed "Named environment variable overrides"). */
export interface EnvOverride {
  readonly variable: string
  readonly path: readonly [string, string]
  readonly kind: 'string' | 'integer'
}

const override = (section: string, key: string, kind: 'string' | 'integer' = 'string'): EnvOverride => ({
  variable: `PROXY_CACHE__${section.toUpperCase()}__${key.toUpperCase()}`,
  path: [section, key],
  kind,
})

/** The supported overrides, in the order they are applied. */
export const ENV_OVERRIDES: readonly EnvOverride[] = Object.freeze([
  override('server', 'port', 'integer'),
  override('server', 'host'),
  override('server', 'static_dir'),
  override('database', 'url'),
  override('database', 'max_connections', 'integer'),
  override('storage', 'path'),
  override('storage', 'bucket'),
  override('storage', 'region'),
  override('storage', 'endpoint_url'),
  override('otel', 'endpoint'),
  override('otel', 'service_name'),
])

const PREFIX = 'PROXY_CACHE__'
const S3_KEYS = ['bucket', 'region', 'endpoint_url']

/**
 * Applies the `PROXY_CACHE__*` variables of `env` on a copy of `raw`.
 *
 * - `PROXY_CACHE__DATABASE__URL` with a `postgres://`/`postgresql://` URL sets `database.type =
 *   "postgresql"` when the file sets no type.
 * - `PROXY_CACHE__STORAGE__BUCKET`/`REGION`/`ENDPOINT_URL` set `storage.type = "s3"` when the file
 *   sets no type; `ENDPOINT_URL` replaces a written `endpoint` alias.
 * - Unknown `PROXY_CACHE__*` variables and empty values are ignored with a warning.
 *
 * @throws ConfigError when an integer variable does not hold an integer (naming the variable).
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: Env): { raw: Record<string, unknown>; warnings: string[] } {
  const out = toPlain(raw)
  const warnings: string[] = []
  const errors: string[] = []
  const byName = new Map(ENV_OVERRIDES.map((o) => [o.variable, o]))
  for (const name of Object.keys(env).filter((k) => k.startsWith(PREFIX)).sort()) {
    if (!byName.has(name)) warnings.push(`${name} is not a supported override and was ignored`)
  }
  for (const o of ENV_OVERRIDES) {
    const text = env[o.variable]
    if (text === undefined) continue
    if (text === '') {
      warnings.push(`${o.variable} is empty and was ignored`)
      continue
    }
    let value: string | number = text
    if (o.kind === 'integer') {
      if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text.trim()))) {
        errors.push(`${o.variable}: must be an integer (got ${JSON.stringify(text)})`)
        continue
      }
      value = Number(text.trim())
    }
    const [section, key] = o.path
    if (out[section] === undefined) out[section] = {}
    const table = out[section]
    if (!isTable(table)) continue // validation reports `<section>: must be object`
    table[key] = value
    if (section === 'database' && key === 'url' && /^postgres(ql)?:\/\//i.test(text)) {
      if (table['type'] === undefined) table['type'] = 'postgresql'
      else if (table['type'] === 'sqlite') {
        warnings.push(`${o.variable} is a PostgreSQL URL but database.type is "sqlite"; the URL is not used`)
      }
    }
    if (section === 'storage' && S3_KEYS.includes(key) && table['type'] === undefined) table['type'] = 's3'
    if (section === 'storage' && key === 'endpoint_url') delete table['endpoint']
  }
  if (errors.length > 0) throw new ConfigError(errors)
  return { raw: out, warnings }
}

// ---------------------------------------------------------------------------------------------
// Putting it together
// ---------------------------------------------------------------------------------------------

/** Where to load from. */
export interface LoadOptions {
  /** `--config` path, relative to `cwd`. When absent: `<cwd>/config.toml` if it exists, else the defaults. */
  path?: string
  /** Environment for `${VAR}` and `PROXY_CACHE__*`. Default: `process.env`. */
  env?: Env
  /** Default: `process.cwd()`. */
  cwd?: string
}

/** The configuration before validation. */
export interface RawConfig {
  /** Parsed TOML with overrides applied (plain objects). For the defaults: only the overrides. */
  readonly raw: Record<string, unknown>
  /** Absolute path of the file, or {@link DEFAULTS_SOURCE}. */
  readonly source: string
  /** Relative paths in the config are resolved against this: the file's directory, or `cwd`. */
  readonly baseDir: string
  readonly warnings: readonly string[]
}

/** A validated configuration and where it came from. */
export interface LoadedConfig {
  readonly config: HubConfig
  readonly source: string
  readonly warnings: readonly string[]
}

/**
 * Every step before validation: find the file, read, substitute, parse, apply overrides. Use it
 * when something (plugin discovery via `plugins.dirs`) must look at the config before the catalog
 * exists, then finish with {@link validateLoadedConfig}.
 */
export function loadRawConfig(options: LoadOptions = {}): RawConfig {
  const cwd = resolve(options.cwd ?? process.cwd())
  const env = options.env ?? process.env
  let file: string | undefined
  if (options.path !== undefined) file = resolve(cwd, options.path)
  else if (existsSync(join(cwd, 'config.toml'))) file = join(cwd, 'config.toml')
  let parsed: Record<string, unknown> = {}
  if (file !== undefined) parsed = parseToml(substituteEnv(readConfigText(file), env, file), file)
  const source = file ?? DEFAULTS_SOURCE
  try {
    const { raw, warnings } = applyEnvOverrides(parsed, env)
    return { raw, source, baseDir: file !== undefined ? dirname(file) : cwd, warnings }
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.errors, source)
    throw err
  }
}

/**
 * The last step of {@link loadConfig}: for the defaults, lays the overrides over
 * `defaultConfig(catalog)`; then validates with paths resolved against `loaded.baseDir`.
 */
export function validateLoadedConfig(loaded: RawConfig, catalog: PluginCatalog): LoadedConfig {
  const raw = loaded.source === DEFAULTS_SOURCE ? mergeTables(defaultConfig(catalog), loaded.raw) : loaded.raw
  const config = validateConfig(raw, catalog, { baseDir: loaded.baseDir, source: loaded.source })
  return { config, source: loaded.source, warnings: loaded.warnings }
}

/** Loads, checks and freezes the configuration: {@link loadRawConfig} + {@link validateLoadedConfig}. */
export function loadConfig(options: LoadOptions & { catalog: PluginCatalog }): LoadedConfig {
  return validateLoadedConfig(loadRawConfig(options), options.catalog)
}
