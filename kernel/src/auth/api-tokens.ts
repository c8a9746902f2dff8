/**
 * Kernel-issued API tokens (`bh_…`): the bootstrap admin token and user-generated tokens.
 *
 * They are 256-bit random strings, so a SHA-256 digest is a safe one-way store (a slow password hash
 * guards low-entropy secrets; these have none to guard). Lookups are cached briefly in memory so
 * that a busy client does not cost one database read per request.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { Clock, Credential, Identity, LoggerService, Role } from '@batlehub/sdk'
import { ApiToken } from '../db/entities.ts'
import type { Database } from '../db/orm.ts'
import type { AuthProvider } from './chain.ts'

export const TOKEN_PREFIX = 'bh_'

export function newApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url')
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

interface CacheEntry {
  identity: Identity | null
  expires: number
}

export class ApiTokenProvider implements AuthProvider {
  readonly id = 'api-token'
  private readonly cache = new Map<string, CacheEntry>()
  private static readonly TTL_MS = 30_000
  private static readonly MAX = 10_000

  constructor(private readonly db: Database, private readonly clock: Clock) {}

  async authenticate(credential: Credential): Promise<Identity | null> {
    const token = credential.token
    if (!token.startsWith(TOKEN_PREFIX)) return null
    const digest = tokenDigest(token)
    const now = this.clock.now()
    const hit = this.cache.get(digest)
    if (hit && hit.expires > now) return hit.identity
    const row = await this.db.em().findOne(ApiToken, { tokenHash: digest })
    let identity: Identity | null = null
    if (row && !row.revokedAt && (!row.expiresAt || row.expiresAt.getTime() > now)) {
      identity = Object.freeze({
        subject: `api-token:${row.userId}`,
        userId: row.userId,
        role: row.role as Role,
        groups: Object.freeze([...(row.groups ?? [])]),
        provider: 'api-token',
        displayName: row.name,
      })
    }
    if (this.cache.size >= ApiTokenProvider.MAX) this.cache.delete(this.cache.keys().next().value!)
    this.cache.set(digest, { identity, expires: now + ApiTokenProvider.TTL_MS })
    return identity
  }

  /** Forgets cached lookups (after a revoke). */
  invalidate(): void {
    this.cache.clear()
  }

  async hasActiveAdmin(): Promise<boolean> {
    const rows = await this.db.em().find(ApiToken, { role: 'admin', revokedAt: null }, { limit: 50 })
    const now = this.clock.now()
    return rows.some((r) => !r.expiresAt || r.expiresAt.getTime() > now)
  }

  async create(o: { name: string; userId: string; role: Role; groups?: string[]; createdBy?: string; expiresAt?: Date }): Promise<string> {
    const token = newApiToken()
    const em = this.db.em()
    em.create(ApiToken, {
      name: o.name, tokenHash: tokenDigest(token), userId: o.userId, role: o.role, groups: o.groups ?? [],
      createdBy: o.createdBy ?? null, expiresAt: o.expiresAt ?? null,
    })
    await em.flush()
    return token
  }
}

/**
 * Secure by default: when no provider has an admin credential and no admin API token exists, the
 * first start generates one, prints it once (stderr) and stores only its digest.
 */
export async function bootstrapAdminToken(o: {
  provider: ApiTokenProvider
  configuredAdmin: boolean
  log: LoggerService
  print?: (text: string) => void
}): Promise<string | null> {
  if (o.configuredAdmin) return null
  if (await o.provider.hasActiveAdmin()) return null
  const token = await o.provider.create({ name: 'bootstrap-admin', userId: 'admin', role: 'admin', createdBy: 'bootstrap' })
  const print = o.print ?? ((t: string) => process.stderr.write(t))
  print(
    '\n' +
      '  No admin credential is configured, so BatleHub generated one. It is shown only now and\n' +
      '  stored only as a hash; keep it somewhere safe:\n\n' +
      `    ${token}\n\n` +
      '  Use it as a Bearer token for /api/v1/admin/*. Configure [[auth]] tokens to replace it.\n\n',
  )
  o.log.warn('generated a bootstrap admin token (printed once to stderr)')
  return token
}
