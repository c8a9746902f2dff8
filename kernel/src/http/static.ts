/**
 * Serves the web UI: the built single-page app at `/` with a history fallback (a deep link such as
 * `/explore/packages/npm/lodash` gets `index.html`), its hashed assets, and each plugin's browser
 * module of UI contributions at `/ui/plugins/{id}/`.
 *
 * @remarks
 * Never shadows the machine interfaces: `/api/`, `/proxy/`, `/healthz`, `/metrics` and
 * `/swagger-ui` pass straight through, so an unknown API path still gets the API's JSON 404.
 *
 * Plugin UI modules are TypeScript or JavaScript in the plugin's package (`batlehub.ui` in its
 * manifest). They are bundled once, on first request, with esbuild; `lit`, `lit/*`, `@lit/context`
 * and `@batlehub/sdk/ui` stay bare imports that the shell's import map resolves, so the browser
 * holds one copy of Lit (STYLE §9).
 */
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync, createReadStream } from 'node:fs'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Context, Next } from 'koa'
import type { LoggerService } from '@batlehub/sdk'

/** Path prefixes the UI never answers. */
export const RESERVED_PREFIXES = ['/api/', '/proxy/', '/swagger-ui']
const RESERVED_EXACT = new Set(['/api', '/proxy', '/healthz', '/metrics'])

/** Client-side routes of the web UI: deep links always get index.html (package names may contain dots). */
export const APP_ROUTES = ['/explore', '/setup', '/admin', '/sign-in']

/** Bare imports left to the shell's import map. */
export const SHARED_BROWSER_MODULES = ['lit', 'lit/*', '@lit/context', '@batlehub/sdk/ui']

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
}

/** A plugin's browser module, as found in its manifest. */
export interface PluginUiModule {
  readonly id: string
  readonly kind: 'registry' | 'auth'
  /** Absolute path of the manifest's `ui` module. */
  readonly entry: string
}

export interface UiOptions {
  /** The built UI (folder holding index.html); undefined when none was found. */
  dir?: string
  plugins: readonly PluginUiModule[]
  log: LoggerService
}

/**
 * The bundled UI: `server.static_dir` when set, else the repository's `admin-ui/dist` found by
 * walking up from the kernel (it runs from `kernel/dist/src/http` or `kernel/src/http`).
 */
export function resolveUiDir(staticDir?: string): string | undefined {
  if (staticDir) return resolve(staticDir)
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'admin-ui', 'dist')
    if (existsSync(join(candidate, 'index.html'))) return candidate
    dir = dirname(dir)
  }
  return undefined
}

export function isReservedPath(path: string): boolean {
  return RESERVED_EXACT.has(path) || RESERVED_PREFIXES.some((p) => path.startsWith(p))
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
}

interface IndexPage {
  mtimeMs: number
  body: Buffer
  etag: string
  csp: string
}

/** The CSP of the shell: only same-origin code, plus the inline import map by its hash. */
export function contentSecurityPolicy(html: string): string {
  const hashes: string[] = []
  for (const m of html.matchAll(/<script\b[^>]*type=["']importmap["'][^>]*>([\s\S]*?)<\/script>/gi)) {
    hashes.push(`'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`)
  }
  return [
    "default-src 'self'",
    `script-src 'self'${hashes.length ? ` ${hashes.join(' ')}` : ''}`,
    // Lit templates may set style attributes; no external origin is ever allowed.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * Sets a body and its length. For HEAD the body is not produced at all (a file stream would be
 * opened and never read), but the length of the GET response is kept.
 */
function setBody(ctx: Context, body: Buffer | string | NodeJS.ReadableStream | (() => NodeJS.ReadableStream), length: number): void {
  if (ctx.method === 'HEAD') {
    ctx.body = ''
  } else {
    ctx.body = typeof body === 'function' ? body() : body
  }
  ctx.length = length
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>BatleHub</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem; color: #1e293b">
<h1>BatleHub is running</h1>
<p>The web UI has not been built. Run <code>npm run build</code> in the BatleHub folder, or point
<code>server.static_dir</code> at a built UI. The JSON API is at <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
</body></html>
`

/** Bundles plugin UI modules once each, in memory. */
class PluginBundles {
  readonly #builds = new Map<string, Promise<Map<string, { body: Buffer; etag: string }>>>()

  constructor(private readonly log: LoggerService) {}

  files(plugin: PluginUiModule): Promise<Map<string, { body: Buffer; etag: string }>> {
    let p = this.#builds.get(plugin.id)
    if (!p) {
      p = this.build(plugin)
      // A failed build is retried on the next request (the plugin may have been fixed on disk).
      p.catch(() => this.#builds.delete(plugin.id))
      this.#builds.set(plugin.id, p)
    }
    return p
  }

  private async build(plugin: PluginUiModule): Promise<Map<string, { body: Buffer; etag: string }>> {
    const { build } = await import('esbuild')
    const outdir = join(dirname(plugin.entry), '.batlehub-ui')
    const result = await build({
      entryPoints: { index: plugin.entry },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outdir,
      write: false,
      minify: true,
      legalComments: 'none',
      chunkNames: 'chunk-[hash]',
      external: SHARED_BROWSER_MODULES,
      logLevel: 'silent',
    })
    const files = new Map<string, { body: Buffer; etag: string }>()
    for (const f of result.outputFiles) {
      const rel = f.path.slice(outdir.length + 1).split(sep).join('/')
      const body = Buffer.from(f.contents)
      files.set(rel, { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` })
    }
    this.log.info('plugin UI bundled', { plugin: plugin.id, files: files.size })
    return files
  }
}

/** Koa middleware serving the UI; call it after the API and registry routes. */
export function createUiMiddleware(o: UiOptions): (ctx: Context, next: Next) => Promise<void> {
  const root = o.dir ? resolve(o.dir) : undefined
  const plugins = new Map(o.plugins.map((p) => [p.id, p]))
  const bundles = new PluginBundles(o.log)
  let index: IndexPage | undefined

  const readIndex = (): IndexPage | undefined => {
    if (!root) return undefined
    const file = join(root, 'index.html')
    let st
    try {
      st = statSync(file)
    } catch {
      return undefined
    }
    // Re-read after a rebuild (mtime changes); otherwise the parsed page is reused.
    if (!index || index.mtimeMs !== st.mtimeMs) {
      const body = readFileSync(file)
      index = {
        mtimeMs: st.mtimeMs,
        body,
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
        csp: contentSecurityPolicy(body.toString('utf8')),
      }
    }
    return index
  }

  const sendIndex = (ctx: Context): void => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) ctx.set(k, v)
    const page = readIndex()
    ctx.set('cache-control', 'no-cache')
    if (!page) {
      ctx.status = 503
      ctx.type = 'text/html; charset=utf-8'
      setBody(ctx, NOT_BUILT, Buffer.byteLength(NOT_BUILT))
      return
    }
    ctx.set('content-security-policy', page.csp)
    ctx.set('etag', page.etag)
    if (ctx.get('if-none-match') === page.etag) {
      ctx.status = 304
      return
    }
    ctx.status = 200
    ctx.type = 'text/html; charset=utf-8'
    setBody(ctx, page.body, page.body.length)
  }

  const sendPluginFile = async (ctx: Context, id: string, rel: string): Promise<boolean> => {
    const plugin = plugins.get(id)
    if (!plugin) return false
    let files
    try {
      files = await bundles.files(plugin)
    } catch (err) {
      o.log.error('plugin UI bundle failed', { plugin: id, err: (err as Error)?.message ?? String(err) })
      ctx.status = 500
      ctx.type = 'text/javascript; charset=utf-8'
      ctx.body = `throw new Error(${JSON.stringify(`the UI module of plugin ${id} failed to build; see the server log`)})\n`
      return true
    }
    const file = files.get(rel)
    if (!file) return false
    ctx.set('x-content-type-options', 'nosniff')
    ctx.set('cache-control', 'no-cache')
    ctx.set('etag', file.etag)
    if (ctx.get('if-none-match') === file.etag) {
      ctx.status = 304
      return true
    }
    ctx.status = 200
    ctx.type = 'text/javascript; charset=utf-8'
    setBody(ctx, file.body, file.body.length)
    return true
  }

  const sendAsset = (ctx: Context, path: string): boolean => {
    if (!root) return false
    const file = resolve(root, `.${path}`)
    // resolve() removes "..": anything that lands outside the UI folder is not ours.
    if (!file.startsWith(root + sep)) return false
    let st
    try {
      st = statSync(file)
    } catch {
      return false
    }
    if (!st.isFile()) return false
    const etag = `"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}"`
    ctx.set('x-content-type-options', 'nosniff')
    // Files under /assets/ carry a content hash in their name.
    ctx.set('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache')
    ctx.set('etag', etag)
    if (ctx.get('if-none-match') === etag) {
      ctx.status = 304
      return true
    }
    ctx.status = 200
    ctx.type = TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream'
    setBody(ctx, () => createReadStream(file), st.size)
    return true
  }

  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isReservedPath(ctx.path)) return next()
    let path: string
    try {
      path = decodeURIComponent(ctx.path)
    } catch {
      return next()
    }
    if (path.includes('\0')) return next()
    const plugin = /^\/ui\/plugins\/([a-z][a-z0-9-]*)\/([A-Za-z0-9._/-]+)$/.exec(path)
    if (plugin) {
      if (await sendPluginFile(ctx, plugin[1]!, plugin[2]!)) return
      return next()
    }
    if (path === '/index.html') return sendIndex(ctx)
    if (sendAsset(ctx, path)) return
    // History fallback: app routes (`/explore/packages/npm/lodash.merge`) and extension-less paths
    // get the app; a missing file stays a 404.
    if (APP_ROUTES.some((r) => path === r || path.startsWith(`${r}/`))) return sendIndex(ctx)
    const last = path.slice(path.lastIndexOf('/') + 1)
    if (!last.includes('.')) return sendIndex(ctx)
    return next()
  }
}
