// Builds the web UI into admin-ui/dist: index.html, hashed assets, and an import map that points
// `lit`, `lit/*`, `@lit/context` and `@batlehub/sdk/ui` at the shell's own copies, so plugin UI
// modules (bundled with those imports left bare) share one Lit with the shell.
//
// One esbuild build with code splitting: the app and the vendor entry points share chunks, so the
// `lit` the import map names and the `lit` inside the app are the same module instance.
import { build } from 'esbuild'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const dist = join(here, 'dist')
const require = createRequire(import.meta.url)

/** Every public subpath of lit (from its exports map), plus @lit/context and the SDK's UI module. */
function sharedModules() {
  // lit's exports map does not expose package.json: find it from the resolved entry.
  let dir = dirname(require.resolve('lit'))
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  const lit = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const specifiers = Object.keys(lit.exports)
    .filter((k) => k !== './package.json' && !k.includes('polyfill-support') && !k.includes('*'))
    .map((k) => (k === '.' ? 'lit' : `lit/${k.slice(2)}`))
  return [...specifiers, '@lit/context', '@batlehub/sdk/ui']
}

const entryName = (spec) => `vendor/${spec.replace(/^@/, '').replace(/\.js$/, '').replace(/[^a-z0-9]+/gi, '-')}`

export async function buildUi({ minify = true } = {}) {
  const started = Date.now()
  rmSync(dist, { recursive: true, force: true })
  mkdirSync(join(dist, 'assets'), { recursive: true })
  const shared = sharedModules()
  const entryPoints = { app: join(here, 'src/main.ts') }
  for (const spec of shared) entryPoints[entryName(spec)] = spec
  const result = await build({
    absWorkingDir: here,
    entryPoints,
    outdir: join(dist, 'assets'),
    entryNames: '[dir]/[name]-[hash]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: false,
    legalComments: 'linked',
    metafile: true,
    tsconfig: join(here, 'tsconfig.json'),
    logLevel: 'warning',
  })
  const urlOf = {}
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    if (!meta.entryPoint) continue
    // metafile names entry points by resolved path; the output name is `<entry key>-<hash>.js`.
    const rel = relative(join(dist, 'assets'), join(here, out)).split('\\').join('/')
    const key = rel.replace(/-[A-Z0-9]{8}\.js$/, '')
    if (key in entryPoints) urlOf[key] = `/assets/${rel}`
  }
  const imports = {}
  for (const spec of shared) {
    const url = urlOf[entryName(spec)]
    if (!url) throw new Error(`no output for ${spec}`)
    imports[spec] = url
  }
  const css = readFileSync(join(here, 'public/base.css'))
  const cssName = `assets/base-${createHash('sha256').update(css).digest('hex').slice(0, 8)}.css`
  writeFileSync(join(dist, cssName), css)
  cpSync(join(here, 'public/favicon.svg'), join(dist, 'favicon.svg'))
  const html = readFileSync(join(here, 'index.html'), 'utf8')
    .replace('%BASE_CSS%', `/${cssName}`)
    .replace('%IMPORT_MAP%', JSON.stringify({ imports }))
    .replace('%APP_JS%', urlOf.app)
  writeFileSync(join(dist, 'index.html'), html)
  const bytes = Object.values(result.metafile.outputs).reduce((a, o) => a + o.bytes, 0)
  return { ms: Date.now() - started, files: Object.keys(result.metafile.outputs).length, bytes, imports }
}

if (import.meta.main || process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await buildUi()
  console.log(`admin-ui: built ${r.files} files (${(r.bytes / 1024).toFixed(0)} KiB) into admin-ui/dist in ${r.ms} ms`)
}
