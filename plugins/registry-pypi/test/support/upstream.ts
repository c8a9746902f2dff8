/**
 * A fixture PyPI: an index host serving the Simple API (PEP 503 HTML or PEP 691 JSON, by Accept)
 * and the JSON API, and a second host serving the files, like pypi.org and files.pythonhosted.org.
 * The distributions are real (see dists.ts) and generated per test run.
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fakeUpstream, type FakeUpstream } from '@batlehub/sdk/testing'
import { buildSdist, buildWheel, type BuiltDist, type DistSpec } from './dists.ts'

export interface FixtureFile extends BuiltDist {
  project: string
  yanked?: string | true
  requiresPython?: string
  uploadTime: string
  /** Whether the index announces a PEP 658 `.metadata` file. */
  coreMetadata: boolean
  /** Path on the files host. */
  path: string
}

export interface FixtureProject {
  name: string
  files: FixtureFile[]
}

export interface PypiFixture {
  index: FakeUpstream
  files: FakeUpstream
  projects: Map<string, FixtureProject>
  file(filename: string): FixtureFile
  close(): Promise<void>
}

interface Release {
  spec: DistSpec
  sdist?: boolean
  yanked?: string | true
}

/** The default catalogue: a project with a dependency, a pre-release, a yanked release and sdists. */
export const DEFAULT_RELEASES: Release[] = [
  { spec: { name: 'tiny-dep', version: '1.0.0', summary: 'A dependency' } },
  { spec: { name: 'tiny-dep', version: '1.2.0', summary: 'A dependency' } },
  { spec: { name: 'demo-lib', version: '0.9.0' }, yanked: 'broken build' },
  { spec: { name: 'demo-lib', version: '1.0.0', requiresDist: ['tiny-dep>=1.0'] }, sdist: true },
  { spec: { name: 'demo-lib', version: '1.1.0', requiresDist: ['tiny-dep>=1.0'], requiresPython: '>=3.8' }, sdist: true },
  { spec: { name: 'demo-lib', version: '2.0.0rc1', requiresDist: ['tiny-dep>=1.0'], requiresPython: '>=3.8' } },
]

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

function simpleHtml(p: FixtureProject, filesUrl: string): string {
  const links = p.files.map((f) => {
    let attrs = `href="${filesUrl}${f.path}#sha256=${f.sha256}"`
    if (f.requiresPython) attrs += ` data-requires-python="${esc(f.requiresPython)}"`
    if (f.yanked) attrs += ` data-yanked="${f.yanked === true ? '' : esc(f.yanked)}"`
    if (f.coreMetadata) {
      const h = `sha256=${sha256Of(f.metadata)}`
      attrs += ` data-dist-info-metadata="${h}" data-core-metadata="${h}"`
    }
    return `    <a ${attrs}>${f.filename}</a><br />`
  })
  return `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="1.1">\n    <title>Links for ${p.name}</title>\n  </head>\n  <body>\n    <h1>Links for ${p.name}</h1>\n${links.join('\n')}\n  </body>\n</html>\n`
}

function simpleJson(p: FixtureProject, filesUrl: string): string {
  return JSON.stringify({
    meta: { 'api-version': '1.1', _last_serial: 42 },
    name: p.name,
    versions: [...new Set(p.files.map((f) => f.version))],
    files: p.files.map((f) => ({
      filename: f.filename,
      url: `${filesUrl}${f.path}`,
      hashes: { sha256: f.sha256 },
      'requires-python': f.requiresPython ?? null,
      yanked: f.yanked ?? false,
      'core-metadata': f.coreMetadata ? { sha256: sha256Of(f.metadata) } : false,
      'data-dist-info-metadata': f.coreMetadata ? { sha256: sha256Of(f.metadata) } : false,
      size: f.body.length,
      'upload-time': f.uploadTime,
    })),
  })
}

function jsonApiFile(f: FixtureFile, filesUrl: string) {
  return {
    filename: f.filename,
    url: `${filesUrl}${f.path}`,
    digests: { sha256: f.sha256, md5: f.md5 },
    md5_digest: f.md5,
    packagetype: f.kind === 'wheel' ? 'bdist_wheel' : 'sdist',
    python_version: f.kind === 'wheel' ? 'py3' : 'source',
    requires_python: f.requiresPython ?? null,
    size: f.body.length,
    upload_time: f.uploadTime.replace(/\.\d+Z$|Z$/, ''),
    upload_time_iso_8601: f.uploadTime,
    yanked: !!f.yanked,
    yanked_reason: typeof f.yanked === 'string' ? f.yanked : null,
  }
}

function jsonApi(p: FixtureProject, version: string | undefined, filesUrl: string): string | null {
  const versions = [...new Set(p.files.map((f) => f.version))]
  const finals = versions.filter((v) => !/[a-z]/i.test(v))
  const latest = version ?? finals[finals.length - 1]!
  if (!versions.includes(latest)) return null
  const releases: Record<string, unknown[]> = {}
  for (const v of versions) releases[v] = p.files.filter((f) => f.version === v).map((f) => jsonApiFile(f, filesUrl))
  return JSON.stringify({
    info: { name: p.name, version: latest, summary: `The ${p.name} test package`, requires_python: null, requires_dist: null },
    last_serial: 42,
    ...(version === undefined ? { releases } : {}),
    urls: p.files.filter((f) => f.version === latest).map((f) => jsonApiFile(f, filesUrl)),
    vulnerabilities: [],
  })
}

function sha256Of(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Starts the fixture hosts with `releases` (default: {@link DEFAULT_RELEASES}). */
export async function pypiFixture(releases: Release[] = DEFAULT_RELEASES): Promise<PypiFixture> {
  const projects = new Map<string, FixtureProject>()
  const byName = new Map<string, FixtureFile>()
  let t = Date.parse('2024-01-01T00:00:00Z')
  for (const r of releases) {
    const key = r.spec.name.toLowerCase()
    const p = projects.get(key) ?? { name: r.spec.name, files: [] }
    projects.set(key, p)
    const built = [buildWheel(r.spec), ...(r.sdist ? [await buildSdist(r.spec)] : [])]
    for (const b of built) {
      t += 86_400_000
      const f: FixtureFile = {
        ...b,
        project: r.spec.name,
        ...(r.yanked ? { yanked: r.yanked } : {}),
        ...(r.spec.requiresPython ? { requiresPython: r.spec.requiresPython } : {}),
        uploadTime: new Date(t).toISOString().replace('.000Z', '.123456Z'),
        coreMetadata: b.kind === 'wheel',
        path: `/packages/${b.sha256.slice(0, 2)}/${b.sha256.slice(2, 4)}/${b.sha256.slice(4)}/${b.filename}`,
      }
      p.files.push(f)
      byName.set(f.filename, f)
    }
  }

  const files = await fakeUpstream()
  for (const f of byName.values()) {
    files.route(`GET ${f.path}`, { body: f.body, headers: { 'content-type': 'application/octet-stream' } })
    if (f.coreMetadata) files.route(`GET ${f.path}.metadata`, { body: f.metadata, headers: { 'content-type': 'binary/octet-stream' } })
  }

  const index = await fakeUpstream()
  const send = (res: ServerResponse, status: number, type: string, body: string) => {
    res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) })
    res.end(body)
  }
  const wantsJson = (req: IncomingMessage) => /application\/vnd\.pypi\.simple\.v1\+json/.test(String(req.headers.accept ?? ''))
  index.route('GET /simple/', (req, res) => {
    const names = [...projects.values()].map((p) => p.name)
    if (wantsJson(req)) send(res, 200, 'application/vnd.pypi.simple.v1+json', JSON.stringify({ meta: { 'api-version': '1.1' }, projects: names.map((name) => ({ name, _last_serial: 1 })) }))
    // pypi.org's root page links with absolute paths.
    else send(res, 200, 'text/html', `<!DOCTYPE html><html><body>${names.map((n) => `<a href="/simple/${n}/">${n}</a>`).join('\n')}</body></html>`)
  })
  for (const p of projects.values()) {
    index.route(`GET /simple/${p.name}/`, (req, res) => {
      if (wantsJson(req)) send(res, 200, 'application/vnd.pypi.simple.v1+json', simpleJson(p, files.url))
      else send(res, 200, 'text/html; charset=utf-8', simpleHtml(p, files.url))
    })
    index.route(`GET /pypi/${p.name}/json`, (_req, res) => send(res, 200, 'application/json', jsonApi(p, undefined, files.url)!))
    for (const v of new Set(p.files.map((f) => f.version))) {
      index.route(`GET /pypi/${p.name}/${v}/json`, (_req, res) => send(res, 200, 'application/json', jsonApi(p, v, files.url)!))
    }
  }

  return {
    index,
    files,
    projects,
    file(filename) {
      const f = byName.get(filename)
      if (!f) throw new Error(`no fixture file ${filename}`)
      return f
    },
    async close() {
      await index.close()
      await files.close()
    },
  }
}
