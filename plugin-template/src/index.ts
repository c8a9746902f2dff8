/**
 * A generic-files registry: files live at `/files/{path}`. In local mode they are uploaded with PUT;
 * in proxy and hybrid modes a missing file is fetched from the upstreams once and kept.
 *
 * This is the starting point for new registry plugins: copy the folder, rename the id and the
 * package, and replace the routes with your protocol's.
 */
import { defineRegistryPlugin, NotFoundError, reply, type RegistryRequest } from '@batlehub/sdk'
import { FilesConfig } from './config.ts'

/** Storage key of a file; the kernel validates it (no traversal) and scopes it to this registry. */
function keyOf(req: RegistryRequest): string {
  return `files/${req.params.path}`
}

export const filesRegistry = defineRegistryPlugin({
  id: 'files',
  config: FilesConfig,
  capabilities: { proxy: true, publish: true, search: false, yank: false },
  setup(ctx) {
    const serve = async (req: RegistryRequest) => {
      const hit = await ctx.storage.serve({ key: keyOf(req), request: req })
      if (hit) return hit
      if (ctx.registry.mode !== 'local') {
        const res = await ctx.http.request({ path: `/${req.params.path}`, signal: req.signal })
        if (res.status === 200) {
          await ctx.storage.put({ key: keyOf(req), body: res.stream(), maxBytes: ctx.config.max_file_bytes, signal: req.signal })
          const fresh = await ctx.storage.serve({ key: keyOf(req), request: req })
          if (fresh) return fresh
        } else {
          res.dispose()
        }
      }
      throw new NotFoundError(`no such file: ${req.params.path}`)
    }
    // Identity only, no permission: like `npm whoami`.
    ctx.routes.get('/whoami', (req) => reply.json({ user: req.identity.userId, role: req.identity.role, groups: req.identity.groups }), { permission: null })
    ctx.routes.get('/files/*path', serve)
    ctx.routes.head('/files/*path', serve)
    // Source archives need source:read rather than releases:read.
    ctx.routes.get('/source/*path', serve, { permission: 'source:read' })
    ctx.routes.put('/files/*path', async (req) => {
      const sha256 = req.header('x-checksum-sha256')
      const stored = await ctx.storage.put({
        key: keyOf(req),
        body: req.body.stream(),
        maxBytes: ctx.config.max_file_bytes,
        signal: req.signal,
        ...(sha256 ? { expect: { sha256 } } : {}),
      })
      return reply.json({ key: stored.key, size: stored.size, sha256: stored.sha256 }, 201)
    })
    ctx.routes.delete('/files/*path', async (req) => {
      if (!(await ctx.storage.delete(keyOf(req)))) throw new NotFoundError(`no such file: ${req.params.path}`)
      return reply.empty()
    })
    return {}
  },
  formatError: (err) => ({ contentType: 'text/plain; charset=utf-8', body: `files: ${err.message}\n` }),
})

export default filesRegistry
