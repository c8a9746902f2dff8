/**
 * Admin API of the policy engine (seed "Block a package version", "Audit log", "IP-Based Blocking"):
 *
 * - `POST /api/v1/admin/packages/block`, `/unblock`, `/bulk-block`; `GET /api/v1/admin/packages/blocked`
 * - `GET /api/v1/admin/audit-log?registry=&outcome=&user=&package=&rule=&action=&since=&until=&before=&limit=`
 * - `GET|POST /api/v1/admin/ip-blocks`, `DELETE /api/v1/admin/ip-blocks/{ip}`
 * - `GET /api/v1/admin/policy`: the rules, limits and stores in force
 *
 * JSON keys are snake_case like the seed's (`blocked_by`, `blocked_at`, `user_id`).
 */
import Type from 'typebox'
import { InputError, NotFoundError, type Identity } from '@batlehub/sdk'
import type { ApiRouter } from './api-router.ts'
import type { HubConfig } from '../config/schema.ts'
import type { PolicyEngine } from '../policy/engine.ts'
import type { BlockInfo } from '../policy/blocklist.ts'
import type { IpBlockRecord } from '../policy/store/types.ts'

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()])

export const BlockedVersion = Type.Object({
  registry: Type.String(),
  name: Type.String({ description: "The registry's normalised package name" }),
  version: Type.String(),
  reason: Nullable(Type.String()),
  blocked_by: Nullable(Type.String()),
  blocked_at: Type.String({ format: 'date-time' }),
}, { $id: 'BlockedVersion' })

const VersionRefBody = Type.Object({
  registry: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 512 }),
  version: Type.String({ minLength: 1, maxLength: 255 }),
}, { additionalProperties: false })

const BlockBody = Type.Object({
  registry: Type.String({ minLength: 1 }),
  name: Type.String({ minLength: 1, maxLength: 512 }),
  version: Type.String({ minLength: 1, maxLength: 255 }),
  reason: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false })

export const AuditLogEntry = Type.Object({
  id: Type.String({ description: 'Sortable id (ULID): newer entries have greater ids' }),
  timestamp: Type.String({ format: 'date-time' }),
  registry: Nullable(Type.String()),
  action: Type.String({ description: 'download, metadata, request, …' }),
  package: Nullable(Type.String()),
  version: Nullable(Type.String()),
  user_id: Type.String(),
  role: Type.String(),
  outcome: Type.Union([Type.Literal('allow'), Type.Literal('deny')]),
  rule: Nullable(Type.String({ description: 'blocklist, release_age_gate, deny_latest, rbac, rate_limit, ip_block; null for a plain allow' })),
  reason: Nullable(Type.String()),
  ip: Nullable(Type.String()),
}, { $id: 'AuditLogEntry' })

export const IpBlockEntry = Type.Object({
  ip: Type.String(),
  reason: Nullable(Type.String()),
  source: Type.Union([Type.Literal('manual'), Type.Literal('auto')]),
  blocked_by: Nullable(Type.String()),
  blocked_at: Type.String({ format: 'date-time' }),
  expires_at: Nullable(Type.String({ format: 'date-time' })),
}, { $id: 'IpBlockEntry' })

function blockJson(b: BlockInfo): Type.Static<typeof BlockedVersion> {
  return { registry: b.registry, name: b.name, version: b.version, reason: b.reason, blocked_by: b.blockedBy, blocked_at: b.blockedAt }
}

function ipJson(b: IpBlockRecord): Type.Static<typeof IpBlockEntry> {
  return {
    ip: b.ip, reason: b.reason, source: b.source, blocked_by: b.blockedBy,
    blocked_at: new Date(b.blockedAt).toISOString(), expires_at: b.expiresAt === null ? null : new Date(b.expiresAt).toISOString(),
  }
}

const actor = (i: Identity) => ({ subject: i.subject, userId: i.userId, role: i.role })

export function registerPolicyApi(api: ApiRouter, deps: { engine: () => PolicyEngine; config: () => HubConfig }): void {
  const tags = ['policy']

  api.add<unknown, Type.Static<typeof BlockBody>>({
    method: 'POST', path: '/api/v1/admin/packages/block', tags, access: 'admin',
    summary: 'Block a package version: 403 for everyone (admins included), hidden from listings',
    body: BlockBody,
    response: Type.Object({ ...BlockedVersion.properties, created: Type.Boolean({ description: 'false when the version was already blocked (its reason was updated)' }) }),
    handler: async ({ identity, body }) => {
      const { results, failed } = await deps.engine().block([body], actor(identity))
      if (failed.length) throw new InputError(failed[0]!.error)
      const r = results[0]!
      return { ...blockJson(r.info), created: r.created }
    },
  })

  api.add<unknown, Type.Static<typeof VersionRefBody>>({
    method: 'POST', path: '/api/v1/admin/packages/unblock', tags, access: 'admin',
    summary: 'Unblock a package version',
    body: VersionRefBody,
    response: Type.Object({ unblocked: BlockedVersion }),
    errors: [404],
    handler: async ({ identity, body }) => {
      const [removed] = await deps.engine().unblock([body], actor(identity))
      if (!removed) throw new NotFoundError(`version ${body.version} of ${body.name} is not blocked on registry ${body.registry}`)
      return { unblocked: blockJson(removed) }
    },
  })

  const BulkBody = Type.Object({
    packages: Type.Array(BlockBody, { minItems: 1, maxItems: 10_000 }),
    reason: Type.Optional(Type.String({ maxLength: 4096, description: 'Reason for entries that give none' })),
  }, { additionalProperties: false })
  api.add<unknown, Type.Static<typeof BulkBody>>({
    method: 'POST', path: '/api/v1/admin/packages/bulk-block', tags, access: 'admin',
    summary: 'Block many package versions in one request',
    body: BulkBody,
    response: Type.Object({
      processed: Type.Integer(),
      succeeded: Type.Integer(),
      blocked: Type.Array(BlockedVersion),
      failed: Type.Array(Type.Object({ registry: Type.String(), name: Type.String(), version: Type.String(), error: Type.String() })),
    }),
    handler: async ({ identity, body }) => {
      const items = body.packages.map((p) => ({ ...p, reason: p.reason ?? body.reason ?? null }))
      const { results, failed } = await deps.engine().block(items, actor(identity))
      return {
        processed: items.length,
        succeeded: results.length,
        blocked: results.map((r) => blockJson(r.info)),
        failed: failed.map((f) => {
          const i = f.item as { registry: string; name: string; version: string }
          return { registry: i.registry, name: i.name, version: i.version, error: f.error }
        }),
      }
    },
  })

  const BlockedQuery = Type.Object({
    registry: Type.Optional(Type.String({ minLength: 1 })),
    name: Type.Optional(Type.String({ minLength: 1 })),
    version: Type.Optional(Type.String({ minLength: 1 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
  })
  api.add<Type.Static<typeof BlockedQuery>, unknown>({
    method: 'GET', path: '/api/v1/admin/packages/blocked', tags, access: 'admin',
    summary: 'Blocked versions with reason, blocked_by and blocked_at, newest first',
    query: BlockedQuery,
    response: Type.Object({ total: Type.Integer(), items: Type.Array(BlockedVersion) }),
    handler: async ({ query }) => {
      const { total, items } = await deps.engine().listBlocks(query)
      return { total, items: items.map(blockJson) }
    },
  })

  const AuditQuery = Type.Object({
    registry: Type.Optional(Type.String({ minLength: 1 })),
    outcome: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('deny')])),
    user: Type.Optional(Type.String({ minLength: 1, description: 'user_id' })),
    package: Type.Optional(Type.String({ minLength: 1 })),
    version: Type.Optional(Type.String({ minLength: 1 })),
    rule: Type.Optional(Type.String({ minLength: 1 })),
    action: Type.Optional(Type.String({ minLength: 1 })),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    before: Type.Optional(Type.String({ pattern: '^[0-9A-HJKMNP-TV-Z]{26}$', description: 'Page: entries older than this id' })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  })
  api.add<Type.Static<typeof AuditQuery>, unknown>({
    method: 'GET', path: '/api/v1/admin/audit-log', tags, access: 'admin',
    summary: 'Access-control decisions (allow and deny), newest first',
    query: AuditQuery,
    response: Type.Array(AuditLogEntry),
    handler: ({ query }) => deps.engine().audit.query(query),
  })

  api.add({
    method: 'GET', path: '/api/v1/admin/ip-blocks', tags, access: 'admin',
    summary: 'Blocked client addresses in force',
    response: Type.Array(IpBlockEntry),
    handler: async () => (await deps.engine().listIpBlocks()).map(ipJson),
  })

  const IpBody = Type.Object({
    ip: Type.String({ minLength: 2, maxLength: 64 }),
    reason: Type.Optional(Type.String({ maxLength: 4096 })),
    duration_secs: Type.Optional(Type.Integer({ minimum: 1, description: 'Absent: until unblocked' })),
  }, { additionalProperties: false })
  api.add<unknown, Type.Static<typeof IpBody>>({
    method: 'POST', path: '/api/v1/admin/ip-blocks', tags, access: 'admin',
    summary: 'Block a client address',
    body: IpBody,
    status: 201,
    response: IpBlockEntry,
    handler: async ({ identity, body }) => ipJson(await deps.engine().blockIp({ ip: body.ip, reason: body.reason, durationSecs: body.duration_secs }, actor(identity))),
  })

  api.add({
    method: 'DELETE', path: '/api/v1/admin/ip-blocks/:ip', tags, access: 'admin',
    summary: 'Unblock a client address',
    response: Type.Object({ ip: Type.String(), unblocked: Type.Boolean() }),
    errors: [404],
    handler: async ({ params }) => {
      const ip = params.ip!
      if (!(await deps.engine().unblockIp(ip))) throw new NotFoundError(`address ${ip} is not blocked`)
      return { ip, unblocked: true }
    },
  })

  api.add({
    method: 'GET', path: '/api/v1/admin/policy', tags, access: 'admin',
    summary: 'Policy settings in force: rules per registry, rate limits, IP blocking, audit retention, shared store',
    response: Type.Object({
      store: Type.String(),
      registries: Type.Array(Type.Object({ name: Type.String(), rules: Type.Array(Type.Record(Type.String(), Type.Unknown())) })),
      rate_limit: Type.Record(Type.String(), Type.Unknown()),
      ip_blocking: Type.Record(Type.String(), Type.Unknown()),
      audit: Type.Record(Type.String(), Type.Unknown()),
    }),
    handler: () => {
      const c = deps.config()
      return {
        store: deps.engine().storeKind,
        registries: c.registries.map((r) => ({ name: r.name, rules: r.rules.map((x) => ({ ...x })) })),
        rate_limit: c.rate_limit,
        ip_blocking: c.ip_blocking,
        audit: c.audit,
      }
    },
  })
}
