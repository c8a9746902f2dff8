/**
 * A fixture npm registry: builds REAL package tarballs (tar + gzip, `package/package.json`) with
 * their real sha512 integrity and sha1 shasum, full and abbreviated packuments with `time`, and
 * serves them on 127.0.0.1 exactly as the public registry does (scoped names in both URL forms,
 * Accept negotiation, tarballs at `/{name}/-/{bare}-{version}.tgz`, `/-/v1/search`).
 *
 * Used by the tests and by the benchmark (bench/run.mjs imports it).
 */
import { createHash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { pack, type Header } from 'tar-stream'

type Json = Record<string, any>

/** One tar entry of a fixture tarball; `type`/`linkname` allow hostile archives. */
export interface TarEntry {
  name: string
  body?: string | Buffer
  type?: Header['type']
  linkname?: string
  size?: number
}

/** Builds a gzip-compressed tar from entries (names taken as they are). */
export async function makeTar(entries: TarEntry[], options: { gzip?: boolean } = {}): Promise<Buffer> {
  const p = pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer))
    p.on('end', () => resolve())
    p.on('error', reject)
  })
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.isBuffer(e.body) ? e.body : Buffer.from(e.body)
    const header: Header = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.type === 'directory' ? 0o755 : 0o644,
      mtime: new Date('1985-10-26T08:15:00Z'),
      size: e.size ?? body?.length ?? 0,
      linkname: e.linkname ?? '',
      uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0,
    } as Header
    await new Promise<void>((resolve, reject) => {
      if (body) p.entry(header, body, (err) => (err ? reject(err) : resolve()))
      else p.entry(header, (err) => (err ? reject(err) : resolve())).end(undefined as never)
    })
  }
  p.finalize()
  await done
  const tar = Buffer.concat(chunks)
  return options.gzip === false ? tar : gzipSync(tar)
}

/** An npm package tarball: `package/package.json` plus the given files. */
export async function makePackageTarball(manifest: Json, files: Record<string, string | Buffer> = {}): Promise<Buffer> {
  return makeTar([
    { name: 'package/package.json', body: JSON.stringify(manifest, null, 2) },
    ...Object.entries(files).map(([name, body]) => ({ name: `package/${name}`, body })),
  ])
}

/** npm's digests of a tarball. */
export function digestsOf(data: Buffer): { integrity: string; shasum: string } {
  return {
    integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
    shasum: createHash('sha1').update(data).digest('hex'),
  }
}

/** A version of a fixture package. */
export interface FixtureVersion {
  version: string
  dependencies?: Record<string, string>
  /** Extra manifest fields (bin, engines, deprecated, …). */
  manifest?: Json
  /** Extra files in the tarball. */
  files?: Record<string, string | Buffer>
  /** ISO publish time; default: a day apart, in order. */
  time?: string
  /** A prebuilt tarball on disk (large artifacts): served streaming, digests given. */
  tarballPath?: string
  digests?: { integrity: string; shasum: string }
}

/** A fixture package. */
export interface FixturePackage {
  name: string
  versions: FixtureVersion[]
  /** Default: `latest` = the last non-prerelease version. */
  distTags?: Record<string, string>
  description?: string
  readme?: string
}

function bareOf(name: string): string {
  return name.startsWith('@') ? name.slice(name.indexOf('/') + 1) : name
}

interface BuiltVersion {
  manifest: Json
  tarball?: Buffer
  tarballPath?: string
  size: number
  file: string
  time: string
}

interface BuiltPackage {
  spec: FixturePackage
  versions: BuiltVersion[]
  full?: Buffer
  abbreviated?: Buffer
}

/** Builds the tarballs and manifests of a package (packuments are rendered once the URL is known). */
export async function buildPackage(spec: FixturePackage): Promise<BuiltPackage> {
  const versions: BuiltVersion[] = []
  const start = Date.parse('2024-01-01T00:00:00.000Z')
  for (const [i, v] of spec.versions.entries()) {
    const manifest: Json = {
      name: spec.name,
      version: v.version,
      description: spec.description ?? `fixture package ${spec.name}`,
      main: 'index.js',
      license: 'MIT',
      ...(v.dependencies ? { dependencies: v.dependencies } : {}),
      ...(v.manifest ?? {}),
    }
    const file = `${bareOf(spec.name)}-${v.version}.tgz`
    const time = v.time ?? new Date(start + i * 86_400_000).toISOString()
    if (v.tarballPath) {
      if (!v.digests) throw new Error('a prebuilt tarball needs its digests')
      manifest.dist = { ...v.digests }
      versions.push({ manifest, tarballPath: v.tarballPath, size: statSync(v.tarballPath).size, file, time })
      continue
    }
    const tarball = await makePackageTarball(manifest, {
      'index.js': `module.exports = ${JSON.stringify(`${spec.name}@${v.version}`)}\n`,
      ...(v.files ?? {}),
    })
    manifest.dist = { ...digestsOf(tarball), fileCount: 2 + Object.keys(v.files ?? {}).length, unpackedSize: tarball.length }
    versions.push({ manifest, tarball, size: tarball.length, file, time })
  }
  return { spec, versions }
}

function render(pkg: BuiltPackage, base: string): void {
  const spec = pkg.spec
  const versions: Json = {}
  const time: Json = {}
  for (const v of pkg.versions) {
    versions[v.manifest.version] = {
      ...v.manifest,
      _id: `${spec.name}@${v.manifest.version}`,
      dist: {
        ...v.manifest.dist,
        tarball: `${base}/${spec.name}/-/${v.file}`,
        // Passed through untouched by the hub.
        signatures: [{ keyid: 'SHA256:fixture', sig: `MEUCIQ${createHash('sha1').update(v.file).digest('hex')}` }],
      },
    }
    time[v.manifest.version] = v.time
  }
  const stable = pkg.versions.filter((v) => !String(v.manifest.version).includes('-'))
  const latest = (stable[stable.length - 1] ?? pkg.versions[pkg.versions.length - 1])!.manifest.version
  const tags = spec.distTags ?? { latest }
  const times = pkg.versions.map((v) => v.time).sort()
  const full = {
    _id: spec.name,
    _rev: `${pkg.versions.length}-fixture`,
    name: spec.name,
    description: spec.description ?? `fixture package ${spec.name}`,
    'dist-tags': tags,
    versions,
    time: { created: times[0], modified: times[times.length - 1], ...time },
    maintainers: [{ name: 'fixture', email: 'fixture@example.com' }],
    readme: spec.readme ?? `# ${spec.name}\n`,
    license: 'MIT',
  }
  const abbreviatedVersions: Json = {}
  for (const [v, m] of Object.entries(versions)) {
    const { name, version, dependencies, dist, bin, engines, deprecated } = m as Json
    abbreviatedVersions[v] = { name, version, ...(dependencies ? { dependencies } : {}), ...(bin ? { bin } : {}), ...(engines ? { engines } : {}), ...(deprecated ? { deprecated } : {}), dist }
  }
  const abbreviated = { name: spec.name, modified: full.time.modified, 'dist-tags': tags, versions: abbreviatedVersions }
  pkg.full = Buffer.from(JSON.stringify(full))
  pkg.abbreviated = Buffer.from(JSON.stringify(abbreviated))
}

/** A request the fixture registry received. */
export interface FixtureRequest {
  method: string
  path: string
  accept?: string
}

/** A running fixture registry. */
export interface FixtureRegistry {
  readonly url: string
  readonly requests: FixtureRequest[]
  /** Requests whose path matches. */
  count(pathPart: string | RegExp): number
  /** Holds tarball responses until the returned function is called (single-flight tests). */
  holdTarballs(): () => void
  /** Packages by name (rendered documents, tarballs). */
  readonly packages: ReadonlyMap<string, BuiltPackage>
  /** Adds or replaces a package (a new version appearing upstream). */
  add(spec: FixturePackage): Promise<void>
  /** Serves this body for a tarball instead of the real one (a tampering upstream). */
  tamper(name: string, file: string, body: Buffer): void
  close(): Promise<void>
}

/**
 * Starts a fixture registry on 127.0.0.1. `ignoreAccept` makes it answer the full document to
 * abbreviated requests (some registries do), `fullOnly` likewise.
 */
export async function startFixtureRegistry(specs: FixturePackage[], options: { ignoreAccept?: boolean; log?: boolean } = {}): Promise<FixtureRegistry> {
  const packages = new Map<string, BuiltPackage>()
  for (const s of specs) packages.set(s.name, await buildPackage(s))
  const requests: FixtureRequest[] = []
  const tampered = new Map<string, Buffer>()
  const etags = new WeakMap<Buffer, string>()
  let hold: Promise<void> | null = null
  const sockets = new Set<Socket>()
  let base = ''

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawPath = (req.url ?? '/').split('?')[0]!
    if (options.log !== false) requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', ...(req.headers.accept ? { accept: req.headers.accept } : {}) })
    const send = (status: number, body: Buffer | string, type = 'application/json', extra: Record<string, string> = {}) => {
      const data = typeof body === 'string' ? Buffer.from(body) : body
      res.writeHead(status, { 'content-type': type, 'content-length': String(data.length), ...extra })
      res.end(req.method === 'HEAD' ? undefined : data)
    }
    if (rawPath === '/-/v1/search') {
      const q = new URL(req.url ?? '/', 'http://x').searchParams
      const text = q.get('text') ?? ''
      const size = Number(q.get('size') ?? 20)
      const from = Number(q.get('from') ?? 0)
      const matching = [...packages.values()].filter((p) => p.spec.name.includes(text))
      const objects = matching.slice(from, from + size).map((p) => {
        const last = p.versions[p.versions.length - 1]!
        return { package: { name: p.spec.name, version: last.manifest.version, description: p.spec.description ?? `fixture package ${p.spec.name}`, date: last.time, keywords: [], maintainers: [{ username: 'fixture' }], links: {} }, score: { final: 0.5, detail: { quality: 0.5, popularity: 0.5, maintenance: 0.5 } }, searchScore: 0.1 }
      })
      return send(200, JSON.stringify({ objects, total: matching.length, time: new Date().toUTCString() }))
    }
    const segs = rawPath.split('/').filter(Boolean).map(decodeURIComponent)
    let name: string
    let rest: string[]
    if (segs[0]?.startsWith('@') && !segs[0].includes('/')) {
      name = `${segs[0]}/${segs[1] ?? ''}`
      rest = segs.slice(2)
    } else {
      name = segs[0] ?? ''
      rest = segs.slice(1)
    }
    const pkg = packages.get(name)
    if (!pkg) return send(404, JSON.stringify({ error: 'Not found' }))
    if (rest.length === 0) {
      if (!pkg.full) render(pkg, base)
      const accept = req.headers.accept ?? ''
      const wantsAbbreviated = !options.ignoreAccept && accept.includes('application/vnd.npm.install-v1+json')
      const body = wantsAbbreviated ? pkg.abbreviated! : pkg.full!
      let etag = etags.get(body)
      if (!etag) {
        etag = `"${createHash('sha1').update(body).digest('hex')}"`
        etags.set(body, etag)
      }
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag })
        return res.end()
      }
      return send(200, body, wantsAbbreviated ? 'application/vnd.npm.install-v1+json' : 'application/json', { etag, 'cache-control': 'public, max-age=300' })
    }
    if (rest.length === 2 && rest[0] === '-') {
      const v = pkg.versions.find((x) => x.file === rest[1])
      if (!v) return send(404, JSON.stringify({ error: 'Not found' }))
      if (hold) await hold
      const fake = tampered.get(`${name}/${v.file}`)
      if (fake) return send(200, fake, 'application/octet-stream')
      if (v.tarball) return send(200, v.tarball, 'application/octet-stream')
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(v.size) })
      if (req.method === 'HEAD') return res.end()
      createReadStream(v.tarballPath!).pipe(res)
      return
    }
    return send(404, JSON.stringify({ error: 'Not found' }))
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500)
      res.end(String(err))
    })
  })
  server.keepAliveTimeout = 65_000
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: base,
    requests,
    packages,
    count(part) {
      return requests.filter((r) => (typeof part === 'string' ? r.path.includes(part) : part.test(r.path))).length
    },
    holdTarballs() {
      let release!: () => void
      hold = new Promise<void>((resolve) => {
        release = resolve
      })
      return () => {
        hold = null
        release()
      }
    },
    async add(spec) {
      packages.set(spec.name, await buildPackage(spec))
    },
    tamper(name, file, body) {
      tampered.set(`${name}/${file}`, body)
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      })
    },
  }
}

/**
 * The standard fixture set: a dependency tree a → b → c, a scoped package depending on a,
 * pre-releases and dist-tags, a package with a bin.
 */
export function standardPackages(): FixturePackage[] {
  return [
    { name: 'fixture-c', versions: [{ version: '1.0.0' }, { version: '1.1.0' }, { version: '2.0.0-beta.1' }], distTags: { latest: '1.1.0', next: '2.0.0-beta.1' } },
    { name: 'fixture-b', versions: [{ version: '1.0.0', dependencies: { 'fixture-c': '^1.0.0' } }] },
    { name: 'fixture-a', versions: [{ version: '1.0.0', dependencies: { 'fixture-b': '^1.0.0' } }, { version: '1.0.1', dependencies: { 'fixture-b': '^1.0.0' } }] },
    { name: '@fixture/scoped', versions: [{ version: '0.1.0', dependencies: { 'fixture-a': '^1.0.0' } }, { version: '0.2.0-rc.0', dependencies: { 'fixture-a': '^1.0.0' } }], distTags: { latest: '0.1.0', rc: '0.2.0-rc.0' } },
    { name: 'fixture-bin', versions: [{ version: '3.0.0', manifest: { bin: { 'fixture-bin': 'cli.js' } }, files: { 'cli.js': '#!/usr/bin/env node\nconsole.log("fixture-bin")\n' } }] },
  ]
}

/** The body libnpmpublish sends for `npm publish` (PUT /{escaped-name}). */
export function publishBody(manifest: Json, tarball: Buffer, options: { tag?: string; registry?: string } = {}): Json {
  const { integrity, shasum } = digestsOf(tarball)
  const name = manifest.name as string
  const version = manifest.version as string
  const bare = bareOf(name)
  return {
    _id: name,
    name,
    description: manifest.description,
    'dist-tags': { [options.tag ?? 'latest']: version },
    versions: {
      [version]: {
        ...manifest,
        _id: `${name}@${version}`,
        readme: `# ${name}\n`,
        _nodeVersion: '24.0.0',
        _npmVersion: '11.0.0',
        dist: { integrity, shasum, tarball: `${options.registry ?? 'http://hub.invalid/proxy/npm'}/${name}/-/${bare}-${version}.tgz` },
      },
    },
    access: null,
    _attachments: {
      [`${name}-${version}.tgz`]: { content_type: 'application/octet-stream', data: tarball.toString('base64'), length: tarball.length },
    },
  }
}
