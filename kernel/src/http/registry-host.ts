/**
 * One mounted registry instance: its plugin, its context, its routes, RBAC and error format.
 *
 * Plugin routes are relative; the kernel matches them below `/proxy/{name}` by handing the router
 * the rest of the path (`newRouterPath`), so plugins never see a prefix (STYLE §3).
 */
import Router from '@koa/router'
import type { Context, Next } from 'koa'
import {
  AuthenticationError, MethodNotAllowedError, NotAllowedError, NotImplementedError,
  type ErrorInfo, type FormattedError, type Identity, type Permission, type RegistryHooks, type RegistryInfo, type RegistryPluginDefinition,
  type RegistryReply, type RouteHandler, type RouteOptions, type RouteRegistrar,
} from '@batlehub/sdk'
import type { RegistryRbac } from '../auth/rbac.ts'
import { toRegistryRequest } from './request.ts'
import { applyReply } from './reply.ts'

type Method = 'get' | 'head' | 'put' | 'post' | 'patch' | 'delete'

export interface RegistryHostOptions {
  info: RegistryInfo
  definition: RegistryPluginDefinition<any>
  rbac: RegistryRbac
  defaultBodyLimit: number
  /** Absolute base of the hub (`public_url`), or undefined to derive it from each request. */
  publicUrl?: string
  /** Told about every RBAC refusal (the audit log). */
  onDenied?: (identity: Identity, permission: Permission, ip: string | null, err: unknown) => void
  /** Temporary files of request bodies (`req.body.spool()`). */
  spoolDir?: string
}

const WWW_AUTHENTICATE = 'Bearer realm="batlehub", Basic realm="batlehub", charset="UTF-8"'

export class RegistryHost {
  readonly info: RegistryInfo
  readonly definition: RegistryPluginDefinition<any>
  readonly rbac: RegistryRbac
  private readonly router = new Router()
  private readonly middleware: ReturnType<Router['routes']>
  private sealed = false
  hooks: RegistryHooks = {}
  readonly routeList: Array<{ method: string; path: string; permission: Permission | null; summary?: string }> = []

  constructor(private readonly o: RegistryHostOptions) {
    this.info = o.info
    this.definition = o.definition
    this.rbac = o.rbac
    this.middleware = this.router.routes()
  }

  /** The route registrar handed to the plugin's setup; it refuses use after the kernel is ready. */
  registrar(): RouteRegistrar {
    const add = (method: Method) => (path: string, handler: RouteHandler, options?: RouteOptions) => this.add(method, path, handler, options)
    return Object.freeze({ get: add('get'), head: add('head'), put: add('put'), post: add('post'), patch: add('patch'), delete: add('delete') })
  }

  seal(): void {
    this.sealed = true
  }

  /** The protocol error body for an error of this registry. */
  formatError(info: ErrorInfo): FormattedError {
    if (this.definition.formatError) {
      try {
        return this.definition.formatError(info)
      } catch {
        // A broken formatter must not hide the original error.
      }
    }
    return { contentType: 'application/json', body: JSON.stringify({ error: info.message, code: info.code }) }
  }

  /** Checks a permission, answering 401 for anonymous callers and 403 for known ones. */
  assert(identity: Identity, permission: Permission, ip: string | null = null): void {
    if (this.rbac.can(identity, permission)) return
    const err = identity.role === 'anonymous'
      ? new AuthenticationError(`authentication required: ${permission} on registry ${this.info.name}`, { headers: { 'www-authenticate': WWW_AUTHENTICATE } })
      : new NotAllowedError(`${identity.userId} lacks ${permission} on registry ${this.info.name}`)
    this.o.onDenied?.(identity, permission, ip, err)
    throw err
  }

  /** Routes a request whose path below the mount is `rest`. Returns false when no route matched. */
  async dispatch(ctx: Context, rest: string, next: Next): Promise<void> {
    ;(ctx as any).newRouterPath = rest
    ctx.state.registryRest = rest
    await this.middleware(ctx as any, next)
  }

  private add(method: Method, path: string, handler: RouteHandler, options: RouteOptions = {}): void {
    if (this.sealed) throw new Error(`registry ${this.info.name}: routes can only be added during setup`)
    if (typeof path !== 'string' || !path.startsWith('/')) throw new Error(`registry ${this.info.name}: route paths start with "/" (got ${path})`)
    const permission: Permission | null =
      options.permission === undefined ? (method === 'get' || method === 'head' ? 'releases:read' : 'releases:write') : options.permission
    const modes = options.modes
    const bodyLimit = options.bodyLimit ?? this.o.defaultBodyLimit
    const writes = method !== 'get' && method !== 'head'
    this.routeList.push({ method: method.toUpperCase(), path, permission, summary: options.summary })
    this.router[method](path, async (ctx: Context) => {
      const identity = ctx.state.identity as Identity
      if (modes && !modes.includes(this.info.mode)) {
        throw new MethodNotAllowedError(`registry ${this.info.name} is in ${this.info.mode} mode; this endpoint needs ${modes.join(' or ')} mode`)
      }
      if (writes && this.info.mode === 'proxy' && permission === 'releases:write') {
        // Seed (user guide, troubleshooting): 403 "registry is not in local or hybrid mode".
        throw new NotAllowedError(`registry ${this.info.name} is not in local or hybrid mode`)
      }
      if (writes && permission === 'releases:write' && !this.definition.capabilities.publish) {
        throw new NotImplementedError(`registry type ${this.info.type} does not support publishing`)
      }
      if (permission) this.assert(identity, permission, ctx.ip)
      const controller = new AbortController()
      // A request emits 'close' once its body is consumed too: only an incomplete body, or a
      // response closed before it finished, means the client went away.
      ctx.req.once('close', () => {
        if (!ctx.req.complete) controller.abort()
      })
      ctx.res.once('close', () => {
        if (!ctx.res.writableFinished) controller.abort()
      })
      const req = toRegistryRequest(ctx, {
        identity,
        baseUrl: this.baseUrl(ctx),
        ip: ctx.ip,
        path: ctx.state.registryRest as string,
        params: { ...(ctx.params as Record<string, string>) },
        bodyLimit,
        signal: controller.signal,
        spoolDir: this.o.spoolDir,
      })
      const reply = (await handler(req)) as RegistryReply | void
      applyReply(ctx, reply)
    })
  }

  baseUrl(ctx: Context): string {
    const base = this.o.publicUrl ?? `${ctx.protocol}://${ctx.host}`
    return `${base.replace(/\/+$/, '')}/proxy/${this.info.name}`
  }
}
