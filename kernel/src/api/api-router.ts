/**
 * JSON API routes under /api/v1, each declared with TypeBox schemas; the same declarations validate
 * requests and generate the OpenAPI document (`/api/v1/openapi.json`, `batlehub dump-spec`).
 */
import Router from '@koa/router'
import type { Context } from 'koa'
import type { TSchema, TObject } from 'typebox'
import { Compile } from 'typebox/compile'
import Value from 'typebox/value'
import { AuthenticationError, InputError, NotAllowedError, type Identity } from '@batlehub/sdk'
import { KoaRequestBody } from '../http/request.ts'

export type ApiAccess = 'public' | 'user' | 'admin'

export interface ApiHandlerContext<Q = any, B = any> {
  readonly identity: Identity
  readonly query: Q
  readonly body: B
  readonly params: Record<string, string>
  readonly koa: Context
}

export interface ApiRouteSpec<Q = any, B = any> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Koa path (`/api/v1/registries/:name`). */
  path: string
  summary: string
  tags: string[]
  access: ApiAccess
  query?: TObject
  body?: TSchema
  /** Successful response schema (status 200 unless `status`). */
  response: TSchema
  status?: number
  /** Other documented statuses. */
  errors?: number[]
  handler(c: ApiHandlerContext<Q, B>): Promise<unknown> | unknown
}

export const ErrorBody = { type: 'object', required: ['error', 'code'], properties: { error: { type: 'string' }, code: { type: 'string' } } }

function errorsOf(checker: ReturnType<typeof Compile>, value: unknown, where: string): string[] {
  return [...checker.Errors(value)].map((e: any) => `${where}${e.instancePath ? e.instancePath.replace(/\//g, '.') : ''}: ${e.message}`)
}

export class ApiRouter {
  readonly specs: ApiRouteSpec[] = []
  readonly router = new Router()

  add<Q, B>(spec: ApiRouteSpec<Q, B>): void {
    this.specs.push(spec as ApiRouteSpec)
    const query = spec.query ? Compile(spec.query) : undefined
    const body = spec.body ? Compile(spec.body) : undefined
    const method = spec.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete'
    this.router[method](spec.path, async (ctx: Context) => {
      const identity = ctx.state.identity as Identity
      if (spec.access !== 'public') {
        if (identity.role === 'anonymous') throw new AuthenticationError('authentication required', { headers: { 'www-authenticate': 'Bearer realm="batlehub"' } })
        if (spec.access === 'admin' && identity.role !== 'admin') throw new NotAllowedError('admin role required')
      }
      let q: unknown = {}
      if (spec.query) {
        const raw: Record<string, unknown> = { ...(ctx.query as Record<string, unknown>) }
        q = Value.Default(spec.query, Value.Convert(spec.query, raw))
        if (!query!.Check(q)) throw new InputError(errorsOf(query!, q, 'query').join('; '))
      }
      let b: unknown
      if (spec.body) {
        const text = await new KoaRequestBody(ctx, 1 << 20).text()
        try {
          b = text.length ? JSON.parse(text) : {}
        } catch (err) {
          throw new InputError(`malformed JSON body: ${(err as Error).message}`)
        }
        b = Value.Default(spec.body, b)
        if (!body!.Check(b)) throw new InputError(errorsOf(body!, b, 'body').join('; '))
      }
      const result = await spec.handler({ identity, query: q as Q, body: b as B, params: ctx.params as Record<string, string>, koa: ctx })
      ctx.status = spec.status ?? 200
      ctx.type = 'application/json'
      ctx.body = JSON.stringify(result ?? {})
    })
  }

  /** The OpenAPI 3.1 document of every declared route. */
  openapi(info: { title: string; version: string }, extraPaths: Record<string, unknown> = {}): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {}
    for (const s of this.specs) {
      // `:name` is one segment; `*name` (a splat) may span several, slashes included.
      const p = s.path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}')
      const params: unknown[] = []
      for (const m of s.path.matchAll(/([:*])([A-Za-z0-9_]+)/g)) {
        params.push({
          name: m[2], in: 'path', required: true, schema: { type: 'string' },
          ...(m[1] === '*' ? { description: 'May contain slashes, passed verbatim', allowReserved: true } : {}),
        })
      }
      if (s.query) {
        const props = (s.query as any).properties ?? {}
        const req = new Set<string>((s.query as any).required ?? [])
        for (const [name, schema] of Object.entries(props)) params.push({ name, in: 'query', required: req.has(name), schema })
      }
      const responses: Record<string, unknown> = {
        [String(s.status ?? 200)]: { description: 'OK', content: { 'application/json': { schema: s.response } } },
      }
      const errs = new Set([400, ...(s.access === 'public' ? [] : [401]), ...(s.access === 'admin' ? [403] : []), ...(s.errors ?? [])])
      for (const e of errs) responses[String(e)] = { description: 'Error', content: { 'application/json': { schema: ErrorBody } } }
      ;(paths[p] ??= {})[s.method.toLowerCase()] = {
        summary: s.summary,
        tags: s.tags,
        ...(s.access !== 'public' ? { security: [{ bearer: [] }] } : {}),
        ...(params.length ? { parameters: params } : {}),
        ...(s.body ? { requestBody: { required: true, content: { 'application/json': { schema: s.body } } } } : {}),
        responses,
      }
    }
    return {
      openapi: '3.1.0',
      info,
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      paths: { ...paths, ...extraPaths },
    }
  }
}
