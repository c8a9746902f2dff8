/**
 * What the routes and hooks share: the upstream index, and the rule that decides between local
 * packages and the upstream (hybrid mode's dependency-confusion guard).
 */
import { createHash } from 'node:crypto'
import type { Identity, LocalPackageInfo, RegistryContext, RegistryReply, RegistryRequest } from '@batlehub/sdk'
import type { PypiConfig } from './config.ts'
import { UpstreamIndex } from './upstream.ts'

/** Where a project's answer comes from. */
export interface Resolution {
  /** The local package, when one exists and the caller may see it. */
  local: LocalPackageInfo | null
  /** Whether the upstream is asked (alone, or merged below the local package). */
  upstream: boolean
}

export class PypiService {
  readonly ctx: RegistryContext<PypiConfig>
  readonly upstream: UpstreamIndex

  constructor(ctx: RegistryContext<PypiConfig>) {
    this.ctx = ctx
    this.upstream = new UpstreamIndex(ctx)
  }

  get mode() {
    return this.ctx.registry.mode
  }

  /**
   * Local first: a local package hides the upstream one of the same name unless
   * `hybrid_merge_upstream` is set, and a local package the caller may not see still hides it (it
   * answers 404 rather than falling through to a public package of the same name).
   */
  async resolve(project: string, identity: Identity): Promise<Resolution> {
    if (this.mode === 'proxy') return { local: null, upstream: true }
    const local = await this.ctx.packages.getPackage(project, { identity })
    if (this.mode === 'local') return { local, upstream: false }
    if (local) return { local, upstream: this.ctx.registry.hybridMergeUpstream }
    return { local: null, upstream: !(await this.ctx.packages.exists(project)) }
  }
}

/** A reply for a document rendered per request, with a strong ETag and 304 support. */
export function renderedReply(req: RegistryRequest, body: string, contentType: string, headers: Record<string, string> = {}): RegistryReply {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`
  const all = { 'content-type': contentType, etag, 'cache-control': 'no-cache', ...headers }
  const inm = req.header('if-none-match')
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) return { status: 304, headers: all, body: null }
  return { status: 200, headers: { ...all, 'content-length': String(Buffer.byteLength(body)) }, body: req.method === 'HEAD' ? null : body }
}
