/**
 * The Koa application: error mapping, access logs and metrics, identity resolution, system
 * endpoints (/healthz, /metrics), the JSON API, and registry mounts at /proxy/{name}/.
 */
import Koa, { type Context, type Next } from 'koa'
import Router from '@koa/router'
import { toErrorInfo, NotFoundError, type ErrorInfo, type FormattedError, type Identity } from '@batlehub/sdk'
import type { Logger } from '../log/logger.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { PassportAuthenticator } from '../auth/chain.ts'
import type { ApiRouter } from '../api/api-router.ts'
import type { RegistryHost } from './registry-host.ts'

/** Errors that only mean the client went away mid-response. */
const CLIENT_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED', 'ERR_STREAM_DESTROYED'])

export function isClientAbort(err: unknown): boolean {
  const e = err as { code?: unknown; name?: string }
  if (e?.name === 'AbortError') return true
  // HPE_*: the client broke the HTTP framing (usually by hanging up mid-body).
  return typeof e?.code === 'string' && (CLIENT_GONE.has(e.code) || e.code.startsWith('HPE_'))
}

/**
 * The request-level policy (kernel/src/policy): IP blocks before authentication, rate limits after
 * it, violation counting after the response.
 */
export interface RequestPolicy {
  /** Throws (403, `X-Block-Expires`) when the address is blocked. */
  checkIp(ip: string, registry: string | undefined): void
  /**
   * Counts the request; resolves with headers to send, or rejects with 429. Null (no promise, no
   * await) when rate limiting is off.
   */
  rateLimit(identity: Identity, ip: string, registry: string | undefined): Promise<Record<string, string> | null> | null
  /** Sees every response status (violations for automatic IP blocking). */
  observe(ip: string, status: number): void
}

export interface AppDeps {
  log: Logger
  metrics: Metrics
  auth: PassportAuthenticator
  api: ApiRouter
  /** Registry instances by name (read per request: hot reload swaps the map). */
  hosts: () => ReadonlyMap<string, RegistryHost>
  health: () => Promise<{ ok: boolean; checks: Record<string, unknown> }>
  trustProxy: boolean
  /**
   * With trustProxy: how many proxies stand in front of the hub. The client address is the
   * X-Forwarded-For entry that many places from the right: the entries further left were written
   * by the client and prove nothing.
   */
  trustProxyHops?: number
  accessLog: boolean
  /** The web UI (history fallback, assets, plugin UI modules); it never answers /api, /proxy or system paths. */
  ui?: (ctx: Context, next: Next) => Promise<void>
  policy?: RequestPolicy
}

function causeChain(err: unknown): unknown {
  const e = err as { message?: string; stack?: string; code?: string; cause?: unknown }
  if (!e || typeof e !== 'object') return String(err)
  return { message: e.message, code: e.code, stack: e.stack, ...(e.cause ? { cause: causeChain(e.cause) } : {}) }
}

export function createApp(deps: AppDeps): Koa {
  // X-Forwarded-For is believed only with server.trust_proxy (never by default).
  const app = new Koa({ proxy: deps.trustProxy, maxIpsCount: deps.trustProxy ? deps.trustProxyHops ?? 1 : 0 })
  // TOOLCHAIN §5: a client that disconnects during a streamed body makes Koa report EPIPE and friends.
  app.on('error', (err: unknown, ctx?: Context) => {
    if (isClientAbort(err)) return
    deps.log.error('unhandled server error', { err: causeChain(err), path: ctx?.path })
  })
  app.silent = true

  const system = new Router()
  system.get('/healthz', async (ctx) => {
    const result = await deps.health()
    ctx.status = result.ok ? 200 : 503
    ctx.body = { status: result.ok ? 'ok' : 'unavailable', checks: result.checks }
  })
  system.get('/metrics', async (ctx) => {
    const { contentType, body } = await deps.metrics.render()
    ctx.type = contentType
    ctx.body = body
  })

  // Outermost: timing, metrics, access log, and error mapping by code.
  app.use(async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint()
    try {
      await next()
      if (ctx.status === 404 && ctx.body === undefined) throw new NotFoundError(`no route for ${ctx.method} ${ctx.path}`)
    } catch (err) {
      writeError(ctx, err, deps)
    } finally {
      deps.policy?.observe(ctx.ip, ctx.status)
      // A request body left unread (refused early: too large, bad checksum, no permission) would
      // corrupt the next request on a kept-alive connection: drain it and close the connection.
      if (!ctx.req.complete && !ctx.req.destroyed) {
        if (!ctx.headerSent) ctx.set('Connection', 'close')
        ctx.req.resume()
      }
      const label = (ctx.state.registry as string | undefined) ?? (ctx.path.startsWith('/api/') ? 'api' : 'system')
      const seconds = Number(process.hrtime.bigint() - started) / 1e9
      deps.metrics.httpRequests.inc({ registry: label, method: ctx.method, status: String(ctx.status) })
      deps.metrics.httpDuration.observe({ registry: label }, seconds)
      if (deps.accessLog) {
        const identity = ctx.state.identity as Identity | undefined
        deps.log.info('request', {
          method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000),
          registry: ctx.state.registry, user: identity?.userId, ip: ctx.ip,
        })
      }
    }
  })

  app.use(system.routes())

  // Identity for the API and the registries, with the request-level policy around it: a blocked
  // address is refused before its credentials are even looked at (seed "IP-Based Blocking"), and
  // the rate limit counts the authenticated caller.
  app.use(async (ctx: Context, next: Next) => {
    const proxied = ctx.path.startsWith('/proxy/')
    let host: RegistryHost | undefined
    let name: string | undefined
    let below = '/'
    if (proxied) {
      const rest = ctx.path.slice('/proxy/'.length)
      const slash = rest.indexOf('/')
      name = slash === -1 ? rest : rest.slice(0, slash)
      host = deps.hosts().get(name)
      if (host) {
        ctx.state.registry = name
        ctx.state.host = host
      }
      // Registry paths are relative to the mount; "/proxy/npm" itself is the mount's root.
      below = slash === -1 ? '/' : rest.slice(slash)
    }
    deps.policy?.checkIp(ctx.ip, name)
    if (proxied && !host) throw new NotFoundError(`no registry named ${JSON.stringify(name)}`)
    if (!proxied && !ctx.path.startsWith('/api/')) {
      await next()
      return
    }
    const identity = await deps.auth.identify(ctx)
    ctx.state.identity = identity
    const counting = deps.policy?.rateLimit(identity, ctx.ip, name)
    if (counting) {
      const headers = await counting
      if (headers) ctx.set(headers)
    }
    if (host) {
      await host.dispatch(ctx, below, async () => {
        throw new NotFoundError(`no ${ctx.method} route for ${below} in registry ${name}`)
      })
      return
    }
    await next()
  })

  app.use(deps.api.router.routes())
  app.use(deps.api.router.allowedMethods())
  if (deps.ui) app.use(deps.ui)
  return app
}

function writeError(ctx: Context, err: unknown, deps: AppDeps): void {
  const info: ErrorInfo = toErrorInfo(err)
  if (isClientAbort(err) || (ctx.req.destroyed && !ctx.req.complete)) {
    // The client went away: nothing to answer, nothing to report as an error.
    deps.log.debug('client went away', { method: ctx.method, path: ctx.path, registry: ctx.state.registry })
    ctx.status = 499
    return
  }
  if (info.status >= 500) {
    deps.log.error('request failed', { method: ctx.method, path: ctx.path, registry: ctx.state.registry, err: causeChain(err) })
  }
  if (ctx.headerSent || !ctx.writable) return
  const extra = (err as { headers?: Record<string, string> })?.headers
  const host = ctx.state.host as RegistryHost | undefined
  const rendered: FormattedError = host ? host.formatError(info) : { contentType: 'application/json', body: JSON.stringify({ error: info.message, code: info.code }) }
  ctx.status = info.status
  ctx.type = rendered.contentType
  ctx.body = ctx.method === 'HEAD' ? null : rendered.body
  if (extra && typeof extra === 'object') {
    for (const [k, v] of Object.entries(extra)) ctx.set(k, k.toLowerCase() === 'www-authenticate' ? splitChallenges(String(v)) : String(v))
  }
  ctx.status = info.status
  // Setting the status resets the reason phrase, so a plugin's own reason goes last.
  const reason = rendered.reason === undefined ? '' : reasonPhrase(rendered.reason)
  if (reason && ctx.req.httpVersionMajor < 2) ctx.message = reason
}

/**
 * Splits `Bearer realm="x", Basic realm="x", charset="UTF-8"` into one WWW-Authenticate field per
 * challenge. RFC 7235 allows both forms, but Apache HttpClient 4 (mvn, Gradle, sbt) reads only the
 * first challenge of a field: with Bearer first it never answers the Basic challenge and never
 * sends the configured credentials. A comma starts a new challenge when `scheme param=` follows.
 */
export function splitChallenges(value: string): string[] {
  return value.split(/,\s*(?=[A-Za-z][\w!#$%&'*+.^`|~-]*\s+[\w!#$%&'*+.^`|~-]+=)/).map((c) => c.trim()).filter(Boolean)
}

/** A reason phrase safe for the status line: printable ASCII, one line, at most 200 characters. */
export function reasonPhrase(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 200)
}
