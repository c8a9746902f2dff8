// Browser tests of the web UI (@web/test-runner in headless Chromium, TOOLCHAIN §7). The pages talk
// to a real hub started here: /api/ is forwarded to it, and plugin UI modules are fetched from it
// and served through the dev server so that their bare `lit` imports resolve to the same files as
// the UI's (one Lit in the page, as the import map does in production).
import { chromeLauncher } from '@web/test-runner-chrome'
import { esbuildPlugin } from '@web/dev-server-esbuild'
import { fileURLToPath } from 'node:url'
import { chromium } from './chromium.mjs'
import { startHub } from './test/hub.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const { executablePath, args } = await chromium()
const hub = await startHub()

async function readBody(req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  return Buffer.concat(chunks)
}

/** /api/* and /proxy/* → the hub; /__hub/* → test controls. */
async function hubMiddleware(ctx, next) {
  if (ctx.path === '/__hub/env') {
    ctx.body = { tokens: hub.tokens, hubUrl: hub.url }
    return
  }
  if (ctx.path === '/__hub/outage') {
    await hub.outage(ctx.query.on === '1')
    ctx.body = { ok: true }
    return
  }
  if (!ctx.path.startsWith('/api/') && !ctx.path.startsWith('/proxy/')) return next()
  const headers = {}
  for (const h of ['authorization', 'content-type', 'accept']) if (ctx.get(h)) headers[h] = ctx.get(h)
  const body = ctx.method === 'GET' || ctx.method === 'HEAD' ? undefined : await readBody(ctx.req)
  const res = await fetch(hub.url + ctx.url, { method: ctx.method, headers, body })
  ctx.status = res.status
  ctx.set('content-type', res.headers.get('content-type') ?? 'application/json')
  ctx.body = Buffer.from(await res.arrayBuffer())
}

export default {
  rootDir: root,
  files: ['admin-ui/test/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testFramework: { config: { timeout: 15000 } },
  middleware: [hubMiddleware],
  // Lit's development build announces itself in every test file.
  filterBrowserLogs: ({ args }) => !String(args[0] ?? '').startsWith('Lit is in dev mode'),
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig: fileURLToPath(new URL('./tsconfig.json', import.meta.url)) }),
    {
      name: 'batlehub-plugin-ui',
      async serve(context) {
        if (!context.path.startsWith('/ui/plugins/')) return undefined
        const res = await fetch(hub.url + context.path)
        if (!res.ok) return undefined
        return { body: await res.text(), type: 'js' }
      },
      async serverStop() {
        await hub.close()
      },
    },
  ],
  browsers: [chromeLauncher({ launchOptions: { executablePath, headless: true, args } })],
}
