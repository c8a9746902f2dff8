/**
 * Plugin discovery and loading.
 *
 * Plugins are npm packages with a `batlehub` manifest in package.json. They are discovered in
 * configured directories, in `./plugins`, and among installed npm packages; the manifest and the
 * SDK range are checked before any plugin code is imported; code is loaded with jiti (TypeScript or
 * JavaScript), with `@batlehub/sdk` aliased to the kernel's own copy so that one SDK exists in memory.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createJiti, type Jiti } from 'jiti'
import semver from 'semver'
import { SDK_VERSION, type AuthPluginDefinition, type PluginKind, type PluginManifest, type RegistryPluginDefinition } from '@batlehub/sdk'

/** Kinds this kernel can load; extend here when a new kind appears. */
export const PLUGIN_KINDS: readonly PluginKind[] = ['registry', 'auth']

const ID_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/

/** A plugin refused at discovery, import or setup. The message names the plugin and the cause. */
export class PluginLoadError extends Error {
  constructor(readonly plugin: string, readonly stage: 'manifest' | 'import' | 'definition' | 'setup', reason: string, options?: { cause?: unknown }) {
    super(`plugin ${plugin}: ${stage === 'manifest' ? 'bad manifest' : stage === 'setup' ? 'setup failed' : `${stage} failed`}: ${reason}`, options)
    this.name = 'PluginLoadError'
  }
}

/** A plugin package found on disk (manifest checked, code not yet imported). */
export interface DiscoveredPlugin {
  readonly manifest: PluginManifest
  /** package.json name. */
  readonly packageName: string
  readonly version: string
  /** Real path of the package folder. */
  readonly dir: string
  readonly entryPath: string
}

export type LoadedPlugin =
  | { kind: 'registry'; id: string; manifest: PluginManifest; packageName: string; dir?: string; definition: RegistryPluginDefinition<any> }
  | { kind: 'auth'; id: string; manifest: PluginManifest; packageName: string; dir?: string; definition: AuthPluginDefinition<any> }

export interface DiscoveryResult {
  plugins: DiscoveredPlugin[]
  /** Packages with a `batlehub` manifest that was refused. */
  errors: PluginLoadError[]
  warnings: string[]
}

/** Reads and checks a package's `batlehub` manifest. Throws PluginLoadError naming the package. */
export function readManifest(packageDir: string): DiscoveredPlugin {
  const pkgPath = join(packageDir, 'package.json')
  let pkg: any
  try {
    pkg = JSON.parse(readFileSync(pkgPath, 'utf8'))
  } catch (err) {
    throw new PluginLoadError(packageDir, 'manifest', `cannot read ${pkgPath}: ${(err as Error).message}`, { cause: err })
  }
  const name = typeof pkg?.name === 'string' ? pkg.name : packageDir
  const m = pkg?.batlehub
  const fail = (reason: string): never => {
    throw new PluginLoadError(name, 'manifest', reason)
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) fail('package.json has no "batlehub" object')
  if (!PLUGIN_KINDS.includes(m.kind)) fail(`"batlehub.kind" must be one of ${PLUGIN_KINDS.join(', ')} (got ${JSON.stringify(m.kind)})`)
  if (typeof m.id !== 'string' || !ID_RE.test(m.id)) fail(`"batlehub.id" must be kebab-case (got ${JSON.stringify(m.id)})`)
  if (typeof m.sdk !== 'string' || semver.validRange(m.sdk) === null) fail(`"batlehub.sdk" must be a semver range (got ${JSON.stringify(m.sdk)})`)
  if (!semver.satisfies(SDK_VERSION, m.sdk)) {
    fail(`requires @batlehub/sdk ${m.sdk}, but this kernel provides ${SDK_VERSION}`)
  }
  if (typeof m.entry !== 'string' || m.entry.length === 0) fail('"batlehub.entry" must name the module to load')
  if (m.ui !== undefined && typeof m.ui !== 'string') fail('"batlehub.ui" must be a path')
  const known = new Set(['kind', 'id', 'sdk', 'entry', 'ui'])
  for (const key of Object.keys(m)) if (!known.has(key)) fail(`unknown key "batlehub.${key}"`)
  const real = realpathSync(packageDir)
  const entryPath = resolve(real, m.entry)
  if (entryPath !== real && !entryPath.startsWith(real + sep)) fail(`"batlehub.entry" points outside the package (${m.entry})`)
  if (!existsSync(entryPath) || !statSync(entryPath).isFile()) fail(`entry ${m.entry} does not exist`)
  return {
    manifest: Object.freeze({ kind: m.kind, id: m.id, sdk: m.sdk, entry: m.entry, ...(m.ui ? { ui: m.ui } : {}) }),
    packageName: name,
    version: typeof pkg.version === 'string' ? pkg.version : '0.0.0',
    dir: real,
    entryPath,
  }
}

function hasManifest(dir: string): boolean {
  const p = join(dir, 'package.json')
  if (!existsSync(p)) return false
  try {
    return JSON.parse(readFileSync(p, 'utf8'))?.batlehub !== undefined
  } catch {
    return true // unreadable package.json: let readManifest report it
  }
}

function childDirs(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.'))
    .map((d) => join(dir, d.name))
}

/** Installed npm packages (`node_modules/*`, `node_modules/@scope/*`) of every ancestor of `from`. */
function nodeModulesPackages(from: string): string[] {
  const out: string[] = []
  let dir = resolve(from)
  for (;;) {
    const nm = join(dir, 'node_modules')
    for (const entry of childDirs(nm)) {
      if (entry.split(sep).pop()!.startsWith('@')) out.push(...childDirs(entry))
      else out.push(entry)
    }
    const parent = dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return out
}

/**
 * Finds plugin packages: first the configured directories (each may be a plugin package itself or a
 * folder of them), then `<cwd>/plugins`, then installed npm packages. The same real path is counted
 * once; a second package with an id already found is skipped with a warning.
 */
export function discoverPlugins(options: { dirs?: readonly string[]; cwd?: string; installed?: boolean }): DiscoveryResult {
  const cwd = options.cwd ?? process.cwd()
  const candidates: string[] = []
  for (const d of options.dirs ?? []) {
    const abs = isAbsolute(d) ? d : resolve(cwd, d)
    if (hasManifest(abs)) candidates.push(abs)
    else candidates.push(...childDirs(abs).filter(hasManifest))
  }
  candidates.push(...childDirs(join(cwd, 'plugins')).filter(hasManifest))
  if (options.installed !== false) {
    candidates.push(...nodeModulesPackages(cwd).filter(hasManifest))
    // The kernel's own installation (it may live outside cwd).
    candidates.push(...nodeModulesPackages(dirname(fileURLToPath(import.meta.url))).filter(hasManifest))
  }
  const seenPaths = new Set<string>()
  const byId = new Map<string, DiscoveredPlugin>()
  const errors: PluginLoadError[] = []
  const warnings: string[] = []
  for (const c of candidates) {
    let real: string
    try {
      real = realpathSync(c)
    } catch {
      continue
    }
    if (seenPaths.has(real)) continue
    seenPaths.add(real)
    try {
      const found = readManifest(real)
      const key = `${found.manifest.kind}:${found.manifest.id}`
      const prior = byId.get(key)
      if (prior) {
        warnings.push(`plugin ${found.packageName} (${real}) skipped: ${found.manifest.kind} plugin "${found.manifest.id}" is already provided by ${prior.packageName} (${prior.dir})`)
        continue
      }
      byId.set(key, found)
    } catch (err) {
      errors.push(err as PluginLoadError)
    }
  }
  return { plugins: [...byId.values()], errors, warnings }
}

/** Where the kernel's copy of the SDK lives; every plugin import of `@batlehub/sdk` resolves here. */
export function sdkAliases(): Record<string, string> {
  const main = fileURLToPath(import.meta.resolve('@batlehub/sdk'))
  const testing = fileURLToPath(import.meta.resolve('@batlehub/sdk/testing'))
  return { '@batlehub/sdk/testing': testing, '@batlehub/sdk': main }
}

let sharedJiti: Jiti | undefined
function jiti(): Jiti {
  sharedJiti ??= createJiti(import.meta.url, {
    alias: sdkAliases(),
    fsCache: true,
    moduleCache: true,
    interopDefault: true,
  })
  return sharedJiti
}

/**
 * Checks that a plugin module's export is a definition of the manifest's kind and id. Types do not
 * survive `jiti.import`, so the object is re-validated here.
 */
export function checkDefinition(kind: PluginKind, id: string, def: unknown, name = id): LoadedPlugin['definition'] {
  const fail = (reason: string): never => {
    throw new PluginLoadError(name, 'definition', reason)
  }
  if (!def || typeof def !== 'object') fail('the entry module has no default export (or named definition)')
  const d = def as Record<string, any>
  if (d.id !== id) fail(`definition id ${JSON.stringify(d.id)} does not match the manifest id "${id}"`)
  if (typeof d.setup !== 'function') fail('definition has no setup function')
  const caps = d.capabilities
  if (!caps || typeof caps !== 'object') fail('definition has no capabilities object')
  const capKeys = kind === 'registry' ? ['proxy', 'publish', 'search', 'yank'] : ['tokens', 'password']
  for (const k of capKeys) if (typeof caps[k] !== 'boolean') fail(`capabilities.${k} must be a boolean`)
  if (d.config !== undefined && (typeof d.config !== 'object' || d.config.type !== 'object')) {
    fail('config must be a TypeBox object schema (Type.Object)')
  }
  if (kind === 'registry') {
    if (d.formatError !== undefined && typeof d.formatError !== 'function') fail('formatError must be a function')
    if (d.defaultUpstreams !== undefined && (!Array.isArray(d.defaultUpstreams) || d.defaultUpstreams.some((u: unknown) => typeof u !== 'string'))) {
      fail('defaultUpstreams must be an array of URLs')
    }
  }
  return d as LoadedPlugin['definition']
}

/** Imports a discovered plugin with jiti and checks its definition. */
export async function importPlugin(found: DiscoveredPlugin): Promise<LoadedPlugin> {
  const { manifest } = found
  let mod: any
  try {
    mod = await jiti().import(found.entryPath)
  } catch (err) {
    throw new PluginLoadError(found.packageName, 'import', (err as Error)?.message ?? String(err), { cause: err })
  }
  const def = mod && typeof mod === 'object' && 'default' in mod ? mod.default : mod
  const definition = checkDefinition(manifest.kind, manifest.id, def, found.packageName)
  return { kind: manifest.kind, id: manifest.id, manifest, packageName: found.packageName, dir: found.dir, definition } as LoadedPlugin
}

/** Wraps an in-process definition (tests, embedding) as a loaded plugin. */
export function inlinePlugin(def: RegistryPluginDefinition<any> | AuthPluginDefinition<any>): LoadedPlugin {
  const caps = (def as any)?.capabilities ?? {}
  const kind: PluginKind = 'publish' in caps || 'proxy' in caps ? 'registry' : 'auth'
  const id = String((def as any)?.id)
  const definition = checkDefinition(kind, id, def, id)
  const manifest: PluginManifest = { kind, id, sdk: `^${SDK_VERSION}`, entry: '<inline>' }
  return { kind, id, manifest, packageName: `<inline ${id}>`, definition } as LoadedPlugin
}

/** Loads a plugin folder given by path (tests and `plugins.dirs`). */
export async function loadPluginDir(dir: string): Promise<LoadedPlugin> {
  return importPlugin(readManifest(dir))
}

/**
 * Runs a plugin's setup with a time limit. A setup that throws or never settles is refused with an
 * error naming the plugin.
 */
export async function timeBoxedSetup<T>(plugin: string, timeoutMs: number, run: () => T | Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PluginLoadError(plugin, 'setup', `did not finish within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([Promise.resolve().then(run), timeout])
  } catch (err) {
    if (err instanceof PluginLoadError) throw err
    throw new PluginLoadError(plugin, 'setup', (err as Error)?.message ?? String(err), { cause: err })
  } finally {
    clearTimeout(timer)
  }
}

/** Relative display path for messages. */
export function displayPath(p: string, cwd = process.cwd()): string {
  const r = relative(cwd, p)
  return r.startsWith('..') ? p : r || '.'
}
