/**
 * The kernel's composition root: configuration → plugins → database → storage → auth → registries
 * → HTTP. One tsyringe child container per kernel, so several kernels can live in one process.
 */
import 'reflect-metadata'
import { createServer, type Server } from 'node:http'
import { existsSync, statSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import type { AddressInfo, Socket } from 'node:net'
import { container as rootContainer, type DependencyContainer } from 'tsyringe'
import { SDK_VERSION, type ArchiveService, type AuthHooks, type AuthPluginDefinition, type Clock, type RegistryInfo, type RegistryPluginDefinition } from '@batlehub/sdk'
import { KERNEL_VERSION } from './version.ts'
import { createRootLogger, Logger, type LogLevel } from './log/logger.ts'
import { KernelEventBus } from './events/bus.ts'
import { Metrics } from './metrics/metrics.ts'
import { discoverPlugins, importPlugin, inlinePlugin, loadPluginDir, timeBoxedSetup, PluginLoadError, type LoadedPlugin } from './plugins/loader.ts'
import { loadRawConfig, validateLoadedConfig } from './config/load.ts'
import { rbacGrants, type HubConfig, type PluginCatalog } from './config/schema.ts'
import { openDatabase, type Database, type DatabaseSettings } from './db/orm.ts'
import { Sql } from './db/sql.ts'
import { StorageManager } from './storage/manager.ts'
import { loadS3, usesS3 } from './storage/s3-loader.ts'
import { AuthChain, PassportAuthenticator, type AuthProvider } from './auth/chain.ts'
import { ApiTokenProvider, bootstrapAdminToken } from './auth/api-tokens.ts'
import { RegistryRbac } from './auth/rbac.ts'
import { RegistryHost } from './http/registry-host.ts'
import { createApp } from './http/app.ts'
import { ApiRouter } from './api/api-router.ts'
import { registerSystemApi } from './api/system.ts'
import { registerExploreApi } from './api/explore.ts'
import { BannerService, createBannerStore, registerBannerApi } from './api/banner.ts'
import { registerSetupGuideApi } from './api/setup-guide.ts'
import { registerDashboardApi, TrafficStats } from './api/dashboard.ts'
import { registerUiApi } from './api/ui.ts'
import { ExploreCache } from './explore/cache.ts'
import { ExploreCatalog } from './explore/catalog.ts'
import { createUiMiddleware, resolveUiDir, type PluginUiModule } from './http/static.ts'
import { registerCacheAdminApi } from './api/admin-cache.ts'
import { Accounting } from './cache/accounting.ts'
import { CacheManager } from './cache/manager.ts'
import { UpstreamHttp } from './upstream/http.ts'
import { Records } from './records/records.ts'
import { PolicyEngine } from './policy/engine.ts'
import { registerPolicyApi } from './api/admin-policy.ts'
import { LocalStores } from './local/index.ts'
import { registerLocalAdminApi } from './api/admin-local.ts'
import { TOKENS } from './tokens.ts'
import { createArchiveService } from './archives/archives.ts'
import { join } from 'node:path'

export interface KernelOptions {
  /** `--config PATH`; default `config.toml` in cwd, else the built-in defaults. */
  configPath?: string
  /** Parsed configuration to use instead of a file (tests, embedding). Still validated. */
  rawConfig?: Record<string, unknown>
  env?: NodeJS.ProcessEnv
  cwd?: string
  /** In-process plugin definitions or plugin folders, in addition to discovered ones. */
  plugins?: ReadonlyArray<RegistryPluginDefinition<any> | AuthPluginDefinition<any> | string>
  /** Discover installed plugins (node_modules, ./plugins, plugins.dirs). Default true. */
  discover?: boolean
  clock?: Clock
  /** Overrides the configured log level (tests use "silent"). */
  logLevel?: LogLevel
  logDestination?: NodeJS.WritableStream
  /** Plugin setup time limit. Default 10 s. */
  setupTimeoutMs?: number
  /** PostgreSQL schema for the database (tests). */
  databaseSchema?: string
  /** Where to print the bootstrap admin token. */
  print?: (text: string) => void
}

export interface PluginReport {
  loaded: LoadedPlugin[]
  errors: PluginLoadError[]
  warnings: string[]
}

const systemClock: Clock = { now: () => Date.now() }

/** Discovers and imports plugins; refused ones are reported, not thrown. */
export async function loadPlugins(o: { dirs: readonly string[]; cwd: string; discover: boolean; extra: KernelOptions['plugins'] }): Promise<PluginReport> {
  const errors: PluginLoadError[] = []
  const warnings: string[] = []
  const byKey = new Map<string, LoadedPlugin>()
  const found = discoverPlugins({ dirs: o.dirs, cwd: o.cwd, installed: o.discover })
  errors.push(...found.errors)
  warnings.push(...found.warnings)
  if (o.discover || o.dirs.length) {
    for (const d of found.plugins) {
      try {
        const p = await importPlugin(d)
        byKey.set(`${p.kind}:${p.id}`, p)
      } catch (err) {
        errors.push(err as PluginLoadError)
      }
    }
  }
  for (const extra of o.extra ?? []) {
    try {
      const p = typeof extra === 'string' ? await loadPluginDir(extra) : inlinePlugin(extra)
      byKey.set(`${p.kind}:${p.id}`, p) // an explicit plugin replaces a discovered one of the same id
    } catch (err) {
      errors.push(err instanceof PluginLoadError ? err : new PluginLoadError(String((extra as any)?.id ?? extra), 'definition', (err as Error).message))
    }
  }
  return { loaded: [...byKey.values()], errors, warnings }
}

export function catalogOf(plugins: readonly LoadedPlugin[]): PluginCatalog {
  const registry = new Map<string, any>()
  const auth = new Map<string, any>()
  for (const p of plugins) {
    if (p.kind === 'registry') {
      registry.set(p.id, {
        id: p.id,
        configSchema: p.definition.config,
        capabilities: p.definition.capabilities,
        defaultUpstreams: p.definition.defaultUpstreams,
      })
    } else {
      auth.set(p.id, { id: p.id, configSchema: p.definition.config })
    }
  }
  return { registry, auth }
}

/** The `batlehub.ui` modules of loaded plugins; a path outside its package or missing is refused with a log line. */
export function pluginUiModules(plugins: readonly LoadedPlugin[], log?: Logger): PluginUiModule[] {
  const out: PluginUiModule[] = []
  for (const p of plugins) {
    if (!p.manifest.ui || !p.dir) continue
    const entry = resolve(p.dir, p.manifest.ui)
    if (!entry.startsWith(p.dir + sep) || !existsSync(entry) || !statSync(entry).isFile()) {
      log?.error('plugin UI module ignored: not a file inside the plugin package', { plugin: p.packageName, ui: p.manifest.ui })
      continue
    }
    out.push({ id: p.id, kind: p.kind, entry })
  }
  return out
}

export class Kernel {
  readonly container: DependencyContainer
  readonly hosts = new Map<string, RegistryHost>()
  private server?: Server
  private readonly sockets = new Set<Socket>()
  private disposers: Array<() => void | Promise<void>> = []
  private closed = false
  bootstrapToken: string | null = null
  /** The proxy/cache engine (every registry's `ctx.cache`), built during setup. */
  proxyCache!: CacheManager
  /** The local package store of every registry (`ctx.packages`). */
  localStores!: LocalStores
  /** Download accounting of proxied and local artifacts, written in batches; built during setup. */
  accounting!: Accounting
  /** The explorer's query cache (flushed on publish and by `POST /api/v1/admin/explore/invalidate`). */
  exploreCache!: ExploreCache
  /** The global banner (the configuration reload sets and clears it too). */
  banner!: BannerService
  /** Cache hit/miss and bandwidth counters of the admin dashboard. */
  traffic!: TrafficStats
  /** Plugins that ship a browser module of UI contributions. */
  uiModules: PluginUiModule[] = []
  /** How long in-flight requests may run on after close() before their connections are cut. */
  closeGraceMs = 5000
  /** Temporary files (request bodies, upstream spools) live here, inside the data directory. */
  get spoolDir(): string {
    return join(this.config.server.data_dir, 'spool')
  }
  private _archives?: ArchiveService
  get archives(): ArchiveService {
    this._archives ??= createArchiveService(this.spoolDir)
    return this._archives
  }

  private constructor(
    readonly config: HubConfig,
    readonly configSource: string,
    readonly plugins: PluginReport,
    readonly log: Logger,
    readonly db: Database,
    readonly storage: StorageManager,
    readonly bus: KernelEventBus,
    readonly metrics: Metrics,
    readonly clock: Clock,
    readonly api: ApiRouter,
    readonly apiTokens: ApiTokenProvider,
    readonly policy: PolicyEngine,
  ) {
    this.container = rootContainer.createChildContainer()
  }

  /** Loads configuration and plugins, opens the database and storage, and sets every plugin up. */
  static async create(options: KernelOptions = {}): Promise<Kernel> {
    const env = options.env ?? process.env
    const cwd = options.cwd ?? process.cwd()
    const raw = options.rawConfig
      ? { raw: options.rawConfig, source: '<inline>', warnings: [] as string[], baseDir: cwd }
      : await loadRawConfig({ path: options.configPath, env, cwd })
    const rawPlugins = (raw.raw as any)?.plugins
    const dirs: string[] = Array.isArray(rawPlugins?.dirs) ? rawPlugins.dirs.filter((d: unknown) => typeof d === 'string') : []
    const plugins = await loadPlugins({ dirs, cwd: (raw as any).baseDir ?? cwd, discover: options.discover !== false, extra: options.plugins })
    const catalog = catalogOf(plugins.loaded)
    // A refused plugin whose type the configuration uses stops start-up with the plugin's own error.
    const usedTypes = new Set<string>([
      ...((raw.raw as any)?.registries ?? []).map((r: any) => `registry:${r?.type}`),
      ...((raw.raw as any)?.auth ?? []).map((a: any) => `auth:${a?.type}`),
    ])
    for (const err of plugins.errors) {
      const id = (err as any).manifestId as string | undefined
      if (id && (usedTypes.has(`registry:${id}`) || usedTypes.has(`auth:${id}`))) throw err
    }
    // validateLoadedConfig lays the built-in defaults under the overrides when there is no file:
    // only now, with the plugins loaded, are the default registries known.
    const { config } = validateLoadedConfig({ ...raw, baseDir: (raw as any).baseDir ?? cwd }, catalog)
    const level: LogLevel = options.logLevel ?? (config.logging.level as LogLevel)
    const log = new Logger(createRootLogger(level, options.logDestination))
    for (const w of [...raw.warnings, ...plugins.warnings]) log.warn(w)
    for (const e of plugins.errors) log.error(e.message, { plugin: e.plugin, stage: e.stage })

    const clock = options.clock ?? systemClock
    const dbSettings: DatabaseSettings = {
      type: config.database.type,
      url: config.database.url,
      path: config.database.path,
      maxConnections: config.database.max_connections,
      schema: options.databaseSchema,
    }
    const db = await openDatabase(dbSettings)
    let storage: StorageManager | undefined
    try {
      if (usesS3(config.storage)) await loadS3()
      storage = new StorageManager(config.storage, db)
      await storage.init?.()
      const bus = new KernelEventBus(log.child({ component: 'events' }))
      const metrics = new Metrics()
      const api = new ApiRouter()
      const apiTokens = new ApiTokenProvider(db, clock)
      const policy = new PolicyEngine({ config, db, clock, log: log.child({ component: 'policy' }), bus, metrics })
      const kernel = new Kernel(config, raw.source, plugins, log, db, storage, bus, metrics, clock, api, apiTokens, policy)
      try {
        await kernel.setup(options)
      } catch (err) {
        await kernel.close()
        throw err
      }
      return kernel
    } catch (err) {
      if (storage) await storage.close().catch(() => {})
      await db.close().catch(() => {})
      throw err
    }
  }

  private async setup(options: KernelOptions): Promise<void> {
    const c = this.container
    c.register(TOKENS.Config, { useValue: this.config })
    c.register(TOKENS.Logger, { useValue: this.log })
    c.register(TOKENS.Database, { useValue: this.db })
    c.register(TOKENS.Storage, { useValue: this.storage })
    c.register(TOKENS.Events, { useValue: this.bus })
    c.register(TOKENS.Metrics, { useValue: this.metrics })
    c.register(TOKENS.Clock, { useValue: this.clock })
    c.register(TOKENS.Api, { useValue: this.api })
    c.register(TOKENS.Kernel, { useValue: this })
    // Blocklist, IP blocks and the shared store are loaded before any request can arrive.
    await this.policy.start()
    const timeout = options.setupTimeoutMs ?? 10_000
    const meta = (pluginId: string) => Object.freeze({ pluginId, sdkVersion: SDK_VERSION, kernelVersion: KERNEL_VERSION })

    // Auth providers, in declared order, after the kernel's own API tokens.
    const providers: AuthProvider[] = [this.apiTokens]
    let configuredAdmin = false
    for (const [i, entry] of this.config.auth.entries()) {
      const plugin = this.plugins.loaded.find((p) => p.kind === 'auth' && p.id === entry.type)
      if (!plugin || plugin.kind !== 'auth') throw new Error(`auth[${i}].type: no auth plugin "${entry.type}"`)
      const def = plugin.definition
      const hooks: AuthHooks = await timeBoxedSetup(plugin.packageName, timeout, () =>
        def.setup(Object.freeze({
          meta: meta(plugin.id),
          config: entry.plugin,
          log: this.log.child({ plugin: plugin.id, auth: i }),
          clock: this.clock,
          events: this.bus,
        })),
      )
      if (!hooks || typeof hooks.authenticate !== 'function') {
        throw new PluginLoadError(plugin.packageName, 'setup', 'setup did not return hooks with authenticate()')
      }
      if (hooks.dispose) this.disposers.push(() => hooks.dispose!())
      if (hooks.hasAdminCredential?.()) configuredAdmin = true
      providers.push({ id: plugin.id, authenticate: (cred) => hooks.authenticate(cred) })
    }
    const chain = new AuthChain(providers)
    c.register(TOKENS.AuthChain, { useValue: chain })
    this.bootstrapToken = await bootstrapAdminToken({ provider: this.apiTokens, configuredAdmin, log: this.log, print: options.print })

    // One download accounting for cached and local artifacts. Its disposer is pushed first so it
    // runs last: the cache and the local stores may still record accesses while they close.
    const accounting = new Accounting(new Sql(this.db), this.log.child({ component: 'accounting' }))
    this.accounting = accounting
    accounting.start()
    this.disposers.push(() => accounting.close())

    // The proxy/cache engine; disposed after the registry plugins (disposers run in reverse).
    this.proxyCache = new CacheManager({
      accounting,
      db: this.db, bus: this.bus, metrics: this.metrics, clock: this.clock, log: this.log.child({ component: 'cache' }),
      dataDir: this.config.server.data_dir, upstreamTimeoutMs: this.config.server.upstream_timeout_secs * 1000,
    })
    this.disposers.push(() => this.proxyCache.close())

    // Registry instances.
    const localStores = new LocalStores({ db: this.db, storage: this.storage, events: this.bus, clock: this.clock, log: this.log.child({ component: 'local-store' }), accounting })
    this.localStores = localStores
    for (const r of this.config.registries) {
      const plugin = this.plugins.loaded.find((p) => p.kind === 'registry' && p.id === r.type)
      if (!plugin || plugin.kind !== 'registry') throw new Error(`registries: no registry plugin "${r.type}"`)
      const info: RegistryInfo = Object.freeze({
        name: r.name,
        type: r.type,
        mode: r.mode,
        upstreams: Object.freeze([...r.upstreams]),
        storage: r.storage,
        searchUrl: r.search_url,
        rbac: rbacGrants(r.rbac) as RegistryInfo['rbac'],
        hybridMergeUpstream: r.hybrid_merge_upstream,
      })
      const rbac = new RegistryRbac(r.rbac as any)
      const host: RegistryHost = new RegistryHost({
        info,
        definition: plugin.definition,
        rbac,
        defaultBodyLimit: r.max_artifact_bytes ?? this.config.server.max_body_bytes,
        publicUrl: this.config.server.public_url,
        spoolDir: this.spoolDir,
        onDenied: (identity, permission, ip, err) => this.policy.recordRbacDenial(r.name, identity, permission, ip, err),
      })
      const policy = this.policy.forRegistry({
        registry: r.name,
        rules: r.rules,
        // The plugin's hook exists once setup returned; names are normalised per call.
        normalize: (name) => host.hooks.normalizeName?.(name) ?? name,
        can: rbac.can.bind(rbac),
        assert: (identity, permission) => host.assert(identity, permission),
      })
      const log = this.log.child({ plugin: plugin.id, registry: r.name })
      const http = new UpstreamHttp({
        registry: r.name,
        upstreams: r.upstreams,
        auth: r.upstream_auth as any,
        tls: r.tls,
        timeoutMs: this.config.server.upstream_timeout_secs * 1000,
        userAgent: `BatleHub/${KERNEL_VERSION} (+${plugin.id})`,
        log,
      })
      const ctx = Object.freeze({
        meta: meta(plugin.id),
        registry: info,
        config: Object.freeze({ ...r.plugin }),
        log,
        clock: this.clock,
        http,
        storage: this.storage.cas(r.storage).scoped(r.name),
        records: new Records(this.db, r.name),
        policy: Object.freeze({
          can: policy.can.bind(policy),
          assert: policy.assert.bind(policy),
          checkArtifact: policy.checkArtifact.bind(policy),
          filterVersions: policy.filterVersions.bind(policy),
          blocked: policy.blocked.bind(policy),
          mayFilter: policy.mayFilter.bind(policy),
          minReleaseAgeSecs: policy.minReleaseAgeSecs.bind(policy),
        }),
        events: this.bus,
        routes: host.registrar(),
        cache: this.proxyCache.forRegistry(r, {
          http, log, cas: this.storage.cas(r.storage), hooks: () => host.hooks,
          defaultMaxBytes: this.config.server.max_body_bytes,
          policy,
        }),
        archives: this.archives,
        packages: localStores.create(r, () => host.hooks.normalizeName?.bind(host.hooks), policy),
      })
      const hooks = await timeBoxedSetup(plugin.packageName, timeout, () => plugin.definition.setup(ctx as any))
      host.hooks = hooks ?? {}
      if (hooks?.dispose) this.disposers.push(() => hooks.dispose!())
      host.seal()
      this.hosts.set(r.name, host)
    }

    registerSystemApi(this.api, { hosts: () => [...this.hosts.values()] })
    registerPolicyApi(this.api, { engine: () => this.policy, config: () => this.config })
    registerCacheAdminApi(this.api, this.proxyCache)
    registerLocalAdminApi(this.api, { hosts: () => this.hosts, stores: localStores })
    await this.setupUiApis()
    this.api.router.get('/api/v1/openapi.json', (ctx) => {
      ctx.type = 'application/json'
      ctx.body = JSON.stringify(this.openapi())
    })
  }

  /** Explorer, banner, setup guide, dashboard and the web UI's own endpoints. */
  private async setupUiApis(): Promise<void> {
    const hosts = () => [...this.hosts.values()]
    const log = this.log.child({ component: 'explore' })
    this.exploreCache = new ExploreCache(this.clock)
    registerExploreApi(this.api, {
      hosts,
      catalog: new ExploreCatalog(this.db, {
        // The local store decides who sees a `team` package; the explorer asks it.
        teamVisible: async (registry, name, identity) => Boolean(await this.localStores.get(registry)?.getPackage(name, { identity })),
      }),
      cache: this.exploreCache,
      log,
      betaEnabled: (name) => this.config.registries.find((r) => r.name === name)?.beta_channel.enabled ?? false,
      upstreamSearchTimeoutMs: Math.min(this.config.server.upstream_timeout_secs * 1000, 10_000),
    })
    // Seed: a publish clears that registry's explorer entries; yank, unyank, delete, block and
    // unblock change what the catalog and the firewall column show, so they do too.
    for (const event of ['core:package.published', 'core:package.yanked', 'core:package.unyanked', 'core:package.deleted', 'core:package.blocked', 'core:package.unblocked'] as const) {
      this.bus.on(event, (e) => {
        this.exploreCache.invalidate(e.registry)
      }, { id: `explore-cache:${event}` })
    }
    const bannerStore = await createBannerStore(this.config.cache, this.db)
    if (bannerStore.close) this.disposers.push(() => bannerStore.close!())
    this.banner = new BannerService(bannerStore, this.clock, this.log.child({ component: 'banner' }))
    registerBannerApi(this.api, { banner: () => this.banner })
    registerSetupGuideApi(this.api, { hosts, publicUrl: this.config.server.public_url, log: this.log.child({ component: 'setup-guide' }) })
    this.traffic = new TrafficStats(this.metrics, this.clock)
    registerDashboardApi(this.api, { hosts, db: () => this.db, traffic: () => this.traffic })
    this.uiModules = pluginUiModules(this.plugins.loaded, this.log)
    registerUiApi(this.api, { plugins: () => this.uiModules, hosts })
  }

  openapi(): Record<string, unknown> {
    return this.api.openapi({ title: 'BatleHub API', version: KERNEL_VERSION }, {
      '/healthz': { get: { summary: 'Database and storage health', tags: ['system'], responses: { 200: { description: 'healthy' }, 503: { description: 'a dependency failed' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', tags: ['system'], responses: { 200: { description: 'text format', content: { 'text/plain': {} } } } } },
    })
  }

  /** Database and every storage backend; never throws. */
  async health(): Promise<{ ok: boolean; checks: Record<string, unknown> }> {
    const checks: Record<string, unknown> = {}
    let ok = true
    try {
      await this.db.ping()
      checks.database = { ok: true, dialect: this.db.dialect }
    } catch (err) {
      ok = false
      checks.database = { ok: false, dialect: this.db.dialect, error: (err as Error).message }
    }
    const storage: Record<string, unknown> = {}
    for (const s of await this.storage.check()) {
      storage[s.name] = s.ok ? { ok: true } : { ok: false, error: s.error }
      if (!s.ok) ok = false
    }
    checks.storage = storage
    return { ok, checks }
  }

  /** Starts listening; resolves with the bound URL. */
  async listen(port = this.config.server.port, host = this.config.server.host): Promise<string> {
    const auth = new PassportAuthenticator(this.container.resolve(TOKENS.AuthChain))
    const app = createApp({
      log: this.log,
      metrics: this.metrics,
      auth,
      api: this.api,
      hosts: () => this.hosts,
      health: () => this.health(),
      trustProxy: this.config.server.trust_proxy,
      trustProxyHops: this.config.server.trust_proxy_hops,
      accessLog: this.config.logging.access_log ?? true,
      ui: createUiMiddleware({ dir: resolveUiDir(this.config.server.static_dir), plugins: this.uiModules, log: this.log.child({ component: 'ui' }) }),
      policy: this.policy,
    })
    const server = createServer(app.callback())
    server.keepAliveTimeout = 65_000
    server.headersTimeout = 66_000
    server.on('connection', (s) => {
      this.sockets.add(s)
      s.once('close', () => this.sockets.delete(s))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.server = server
    const addr = server.address() as AddressInfo
    const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
    this.bus.emit('core:kernel.started', { at: new Date(this.clock.now()).toISOString(), url })
    return url
  }

  /** Stops the server, disposes plugins, closes storage and the database. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.server) {
      const server = this.server
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
        // Requests still running get a moment to finish, then their connections are cut.
        const grace = setTimeout(() => {
          server.closeAllConnections()
          for (const s of this.sockets) s.destroy()
        }, this.closeGraceMs)
        server.once('close', () => clearTimeout(grace))
      })
    }
    for (const d of this.disposers.reverse()) {
      try {
        await d()
      } catch (err) {
        this.log.error('plugin dispose failed', { err: (err as Error).message })
      }
    }
    await this.policy.close().catch((err) => this.log.error('policy engine close failed', { err: (err as Error).message }))
    this.bus.removeAll()
    await this.storage.close().catch(() => {})
    await this.db.close().catch(() => {})
    await this.log.flush().catch(() => {})
    this.container.dispose?.()
  }
}
