/**
 * Fixture generator: real `.crate` files (gzip tar of `{name}-{version}/Cargo.toml` and
 * `src/lib.rs`) with real sha256 checksums, the sparse index lines describing them, and an
 * upstream on 127.0.0.1 serving both exactly as index.crates.io and static.crates.io do.
 */
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import { fakeUpstream, type FakeUpstream } from '@batlehub/sdk/testing'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** One tar member to write. */
export interface TarMember {
  path: string
  data?: string | Buffer
  /** Tar type flag; default '0' (file). */
  type?: string
  linkPath?: string
  /** Write the path as a GNU long-name record even when it fits. */
  longName?: boolean
}

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0'
}

function header(path: string, size: number, type: string, linkPath = ''): Buffer {
  const h = Buffer.alloc(512)
  h.write(path, 0, 100, 'utf8')
  h.write(octal(0o644, 8), 100, 'ascii')
  h.write(octal(0, 8), 108, 'ascii')
  h.write(octal(0, 8), 116, 'ascii')
  h.write(octal(size, 12), 124, 'ascii')
  h.write(octal(0, 12), 136, 'ascii')
  h.write('        ', 148, 'ascii')
  h.write(type, 156, 'latin1')
  h.write(linkPath, 157, 100, 'utf8')
  h.write('ustar\0', 257, 'latin1')
  h.write('00', 263, 'latin1')
  let sum = 0
  for (const b of h) sum += b
  h.write(octal(sum, 7) + ' ', 148, 'ascii')
  return h
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512
  return pad ? Buffer.concat([data, Buffer.alloc(pad)]) : data
}

/** A tar archive (uncompressed) of the members. */
export function tar(members: readonly TarMember[]): Buffer {
  const parts: Buffer[] = []
  for (const m of members) {
    const data = m.data === undefined ? Buffer.alloc(0) : Buffer.isBuffer(m.data) ? m.data : Buffer.from(m.data)
    let path = m.path
    if (m.longName || Buffer.byteLength(path) > 99) {
      const name = Buffer.from(`${path}\0`)
      parts.push(header('././@LongLink', name.length, 'L'), padded(name))
      path = path.slice(0, 99)
    }
    parts.push(header(path, m.type === undefined || m.type === '0' ? data.length : 0, m.type ?? '0', m.linkPath))
    if (data.length && (m.type === undefined || m.type === '0')) parts.push(padded(data))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/** A dependency of a fixture crate. */
export interface FixtureDep {
  name: string
  req: string
  kind?: 'normal' | 'dev' | 'build'
  optional?: boolean
  registry?: string | null
}

/** A crate version to generate. */
export interface FixtureCrateSpec {
  name: string
  version: string
  deps?: FixtureDep[]
  features?: Record<string, string[]>
  /** Text of src/lib.rs; default a function that proves the right version compiled. */
  lib?: string
  /** Extra or replacement tar members. */
  extra?: TarMember[]
  /** Override the manifest written into the archive. */
  manifest?: string
}

/** A generated crate version. */
export interface FixtureCrate {
  spec: FixtureCrateSpec
  bytes: Buffer
  cksum: string
  /** Its sparse index line, as crates.io writes it. */
  line: Record<string, unknown>
}

const fnName = (name: string) => name.replace(/-/g, '_')

/** The normalized Cargo.toml cargo writes into a `.crate`. */
export function manifestOf(spec: FixtureCrateSpec): string {
  let toml = `[package]\nedition = "2021"\nname = "${spec.name}"\nversion = "${spec.version}"\nbuild = false\nautolib = false\ndescription = "fixture crate ${spec.name}"\nlicense = "MIT"\n\n[lib]\nname = "${fnName(spec.name)}"\npath = "src/lib.rs"\n`
  for (const d of spec.deps ?? []) {
    const section = d.kind === 'dev' ? 'dev-dependencies' : d.kind === 'build' ? 'build-dependencies' : 'dependencies'
    toml += `\n[${section}.${d.name}]\nversion = "${d.req}"\n${d.optional ? 'optional = true\n' : ''}`
  }
  if (spec.features && Object.keys(spec.features).length) {
    toml += '\n[features]\n'
    for (const [k, v] of Object.entries(spec.features)) toml += `${k} = ${JSON.stringify(v)}\n`
  }
  return toml
}

/** The bytes of a `.crate` for the spec. */
export function crateBytes(spec: FixtureCrateSpec): Buffer {
  const root = `${spec.name}-${spec.version}`
  const lib = spec.lib ?? `pub fn version() -> &'static str { "${spec.name} ${spec.version}" }\n`
  const members: TarMember[] = [
    { path: `${root}/Cargo.toml`, data: spec.manifest ?? manifestOf(spec) },
    { path: `${root}/Cargo.toml.orig`, data: spec.manifest ?? manifestOf(spec) },
    { path: `${root}/src/lib.rs`, data: lib },
    ...(spec.extra ?? []),
  ]
  return gzipSync(tar(members))
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

/** Generates a crate version with its index line. */
export function makeCrate(spec: FixtureCrateSpec): FixtureCrate {
  const bytes = crateBytes(spec)
  const cksum = sha256(bytes)
  const line = {
    name: spec.name,
    vers: spec.version,
    deps: (spec.deps ?? []).map((d) => ({
      name: d.name, req: d.req, features: [], optional: d.optional ?? false, default_features: true,
      target: null, kind: d.kind ?? 'normal', ...(d.registry ? { registry: d.registry } : {}),
    })),
    cksum,
    features: spec.features ?? {},
    yanked: false,
    links: null,
    pubtime: '2024-03-01T12:00:00Z',
  }
  return { spec, bytes, cksum, line }
}

/** Lower-cased sparse index path of a crate. */
export function fixtureIndexPath(name: string): string {
  const n = name.toLowerCase()
  if (n.length === 1) return `1/${n}`
  if (n.length === 2) return `2/${n}`
  if (n.length === 3) return `3/${n[0]}/${n}`
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`
}

/**
 * The standard fixture set: `fixture-util` 0.1.0, 0.2.0 and the pre-release 0.3.0-beta.1, and
 * `fixture-app-lib` 1.0.0 depending on `fixture-util ^0.2`.
 */
export function standardCrates(): FixtureCrate[] {
  return [
    makeCrate({ name: 'fixture-util', version: '0.1.0' }),
    makeCrate({ name: 'fixture-util', version: '0.2.0' }),
    makeCrate({ name: 'fixture-util', version: '0.3.0-beta.1' }),
    makeCrate({
      name: 'fixture-app-lib',
      version: '1.0.0',
      deps: [{ name: 'fixture-util', req: '^0.2' }],
      lib: 'pub fn version() -> &\'static str { "fixture-app-lib 1.0.0" }\npub fn util() -> &\'static str { fixture_util::version() }\n',
    }),
  ]
}

/** Options of {@link crateUpstream}. */
export interface CrateUpstreamOptions {
  /** `dl` written in config.json; `{base}` is replaced by the server URL. Default: a static.crates.io-like layout. */
  dl?: string
  /** Serve no config.json (404), like an index without one. */
  noConfig?: boolean
  /** Serve these bytes instead of the real ones for a `name@version` (a corrupted mirror). */
  tamper?: Record<string, Buffer>
  /** Publish times for the crates.io-style web API `/api/v1/crates/{name}`. */
  api?: boolean
}

/** A fixture upstream: index files, config.json, downloads, and the crates.io web API. */
export interface CrateUpstream {
  readonly server: FakeUpstream
  readonly url: string
  readonly crates: FixtureCrate[]
  /** Downloads served, as `name@version`. */
  readonly downloads: string[]
  add(crate: FixtureCrate): void
  close(): Promise<void>
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body?: string | Buffer): void {
  res.writeHead(status, { ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers })
  res.end(body)
}

/** Starts a fixture upstream serving the crates as a sparse index with downloads. */
export async function crateUpstream(crates: FixtureCrate[], options: CrateUpstreamOptions = {}): Promise<CrateUpstream> {
  const all = [...crates]
  const downloads: string[] = []
  const server = await fakeUpstream({})
  const base = server.url
  const dl = (options.dl ?? '{base}/crates/{crate}/{crate}-{version}.crate').replaceAll('{base}', base)
  const indexBody = (name: string) => all
    .filter((c) => c.spec.name.toLowerCase() === name)
    .map((c) => `${JSON.stringify(c.line)}\n`)
    .join('')
  const route = (res: ServerResponse, req: IncomingMessage, body: string, type: string) => {
    const etag = `"${sha256(body).slice(0, 16)}"`
    if (req.headers['if-none-match'] === etag) return send(res, 304, { etag })
    send(res, 200, { 'content-type': type, etag, 'cache-control': 'public, max-age=600' }, req.method === 'HEAD' ? undefined : body)
  }
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!
    if (path === '/config.json') {
      if (options.noConfig) return send(res, 404, {}, 'not found')
      return route(res, req, JSON.stringify({ dl, api: base }), 'application/json')
    }
    const download = /^\/crates\/([^/]+)\/([^/]+)\.crate$/.exec(path)
    if (download && download[2]!.startsWith(`${download[1]}-`)) {
      const name = download[1]!
      const version = download[2]!.slice(name.length + 1)
      const c = all.find((x) => x.spec.name === name && x.spec.version === version)
      if (!c) return send(res, 404, {}, 'no such crate')
      downloads.push(`${name}@${version}`)
      const bytes = options.tamper?.[`${name}@${version}`] ?? c.bytes
      return send(res, 200, { 'content-type': 'application/x-tar' }, bytes)
    }
    const api = /^\/api\/v1\/crates\/([^/]+)$/.exec(path)
    if (api && options.api) {
      const versions = all.filter((c) => c.spec.name === api[1]).map((c, i) => ({
        num: c.spec.version, created_at: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(), yanked: false,
      }))
      if (!versions.length) return send(res, 404, {}, JSON.stringify({ errors: [{ detail: 'Not Found' }] }))
      return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ crate: { name: api[1] }, versions }))
    }
    if (path === '/api/v1/crates' && options.api) {
      const q = new URL(req.url ?? '/', base).searchParams.get('q') ?? ''
      const names = [...new Set(all.map((c) => c.spec.name))].filter((n) => n.includes(q))
      const crates = names.map((n) => ({ name: n, max_version: all.filter((c) => c.spec.name === n).at(-1)!.spec.version, description: `fixture crate ${n}` }))
      return send(res, 200, { 'content-type': 'application/json' }, JSON.stringify({ crates, meta: { total: crates.length } }))
    }
    const name = path.split('/').pop()!
    if (name && fixtureIndexPath(name) === path.slice(1)) {
      const body = indexBody(name)
      if (!body) return send(res, 404, {}, 'not found')
      return route(res, req, body, 'text/plain')
    }
    send(res, 404, {}, 'not found')
  }
  // fakeUpstream routes by exact path; a catch-all handler goes through its request hook.
  for (const method of ['GET', 'HEAD']) {
    const paths = new Set<string>(['/config.json', '/api/v1/crates'])
    for (const c of all) {
      paths.add(`/${fixtureIndexPath(c.spec.name)}`)
      paths.add(`/crates/${c.spec.name}/${c.spec.name}-${c.spec.version}.crate`)
      paths.add(`/api/v1/crates/${c.spec.name}`)
    }
    for (const p of paths) server.route(`${method} ${p}`, handler)
  }
  return {
    server,
    url: base,
    crates: all,
    downloads,
    add(crate: FixtureCrate) {
      all.push(crate)
      for (const method of ['GET', 'HEAD']) {
        server.route(`${method} /${fixtureIndexPath(crate.spec.name)}`, handler)
        server.route(`${method} /crates/${crate.spec.name}/${crate.spec.name}-${crate.spec.version}.crate`, handler)
        server.route(`${method} /api/v1/crates/${crate.spec.name}`, handler)
      }
    },
    close: () => server.close(),
  }
}
