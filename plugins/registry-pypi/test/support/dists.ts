/**
 * Builds real Python distributions for the tests: wheels (zip with `.dist-info/METADATA`, `WHEEL`
 * and a `RECORD` carrying real hashes) and sdists (`.tar.gz` with `PKG-INFO`), plus hostile
 * variants (path escapes, links, bombs) that no well-behaved tool would write.
 */
import { createHash } from 'node:crypto'
import { deflateRawSync, crc32, gzipSync } from 'node:zlib'
import * as tar from 'tar-stream'

// ---------------------------------------------------------------------------------------------
// A minimal zip writer (APPNOTE 6.3): enough control to write what yazl refuses to.
// ---------------------------------------------------------------------------------------------

export interface ZipEntrySpec {
  name: string
  data?: Buffer | string
  /** Unix mode including the file type bits (0o100644 file, 0o120777 symlink, 0o040755 directory). */
  mode?: number
  store?: boolean
  /** Declared uncompressed size, when it should lie. */
  declaredSize?: number
}

export function zip(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '')
    const name = Buffer.from(e.name, 'utf8')
    const compressed = e.store ? data : deflateRawSync(data)
    const method = e.store ? 0 : 8
    const crc = crc32(data) >>> 0
    const size = e.declaredSize ?? data.length
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(0, 10)
    local.writeUInt16LE(0x21, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(compressed.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    locals.push(local, name, compressed)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(compressed.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(0, 30)
    central.writeUInt16LE(0, 32)
    central.writeUInt16LE(0, 34)
    central.writeUInt16LE(0, 36)
    central.writeUInt32LE(((e.mode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644)) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += local.length + name.length + compressed.length
  }
  const cd = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(cd.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, end])
}

// ---------------------------------------------------------------------------------------------
// tar.gz
// ---------------------------------------------------------------------------------------------

export interface TarEntrySpec {
  name: string
  data?: Buffer | string
  type?: 'file' | 'directory' | 'symlink' | 'link'
  linkname?: string
}

export async function tarGz(entries: TarEntrySpec[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array))
  })()
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '')
    const type = e.type ?? 'file'
    await new Promise<void>((resolve, reject) => {
      const header = { name: e.name, type, mode: type === 'directory' ? 0o755 : 0o644, mtime: new Date(1700000000000), ...(e.linkname ? { linkname: e.linkname } : {}) }
      pack.entry(header, type === 'file' ? data : '', (err) => (err ? reject(err) : resolve()))
    })
  }
  pack.finalize()
  await done
  return gzipSync(Buffer.concat(chunks))
}

// ---------------------------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------------------------

export interface DistSpec {
  /** Project name as users write it (`demo-lib`). */
  name: string
  version: string
  summary?: string
  requiresDist?: string[]
  requiresPython?: string
  /** Python source of the package's `__init__.py`. */
  code?: string
  /** Override fields of METADATA / PKG-INFO (a wrong Name, say). */
  metadataName?: string
  metadataVersion?: string
  /** Extra archive entries (hostile ones). */
  extraZip?: ZipEntrySpec[]
  extraTar?: TarEntrySpec[]
}

export interface BuiltDist {
  filename: string
  body: Buffer
  sha256: string
  md5: string
  /** METADATA (wheel) or PKG-INFO (sdist). */
  metadata: Buffer
  version: string
  kind: 'wheel' | 'sdist'
}

/** `demo-lib` → `demo_lib` (the distribution and import name). */
export function distName(name: string): string {
  return name.replace(/[-_.]+/g, '_').toLowerCase()
}

export function coreMetadata(spec: DistSpec): string {
  const lines = [
    'Metadata-Version: 2.1',
    `Name: ${spec.metadataName ?? spec.name}`,
    `Version: ${spec.metadataVersion ?? spec.version}`,
    `Summary: ${spec.summary ?? `The ${spec.name} test package`}`,
    'Author-email: Test Author <author@example.org>',
    'License: MIT',
    'Classifier: Programming Language :: Python :: 3',
    'Project-URL: Homepage, https://example.org/project',
  ]
  if (spec.requiresPython) lines.push(`Requires-Python: ${spec.requiresPython}`)
  for (const d of spec.requiresDist ?? []) lines.push(`Requires-Dist: ${d}`)
  lines.push('Description-Content-Type: text/markdown', '', `# ${spec.name}`, '', 'A package built by the test suite.', '')
  return lines.join('\n')
}

function recordHash(data: Buffer): string {
  return `sha256=${createHash('sha256').update(data).digest('base64url')}`
}

function digests(body: Buffer) {
  return { sha256: createHash('sha256').update(body).digest('hex'), md5: createHash('md5').update(body).digest('hex') }
}

/** A pure-Python wheel (`py3-none-any`) that pip installs. */
export function buildWheel(spec: DistSpec): BuiltDist {
  const dist = distName(spec.name)
  const info = `${dist}-${spec.version}.dist-info`
  const metadata = Buffer.from(coreMetadata(spec))
  const files: Array<[string, Buffer]> = [
    [`${dist}/__init__.py`, Buffer.from(spec.code ?? `__version__ = ${JSON.stringify(spec.version)}\n`)],
    [`${info}/METADATA`, metadata],
    [`${info}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: batlehub-tests (1.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n')],
    [`${info}/top_level.txt`, Buffer.from(`${dist}\n`)],
  ]
  const record = files.map(([n, d]) => `${n},${recordHash(d)},${d.length}`).concat(`${info}/RECORD,,`, '').join('\n')
  const entries: ZipEntrySpec[] = [...files.map(([name, data]) => ({ name, data })), { name: `${info}/RECORD`, data: record }, ...(spec.extraZip ?? [])]
  const body = zip(entries)
  return { filename: `${dist}-${spec.version}-py3-none-any.whl`, body, ...digests(body), metadata, version: spec.version, kind: 'wheel' }
}

/** A PEP 625 sdist (`{name}-{version}.tar.gz` with one top-level directory holding PKG-INFO). */
export async function buildSdist(spec: DistSpec): Promise<BuiltDist> {
  const dist = distName(spec.name)
  const top = `${dist}-${spec.version}`
  const pkgInfo = Buffer.from(coreMetadata(spec))
  const body = await tarGz([
    { name: `${top}/`, type: 'directory' },
    { name: `${top}/PKG-INFO`, data: pkgInfo },
    { name: `${top}/pyproject.toml`, data: `[project]\nname = "${spec.name}"\nversion = "${spec.version}"\n` },
    { name: `${top}/${dist}/__init__.py`, data: `__version__ = ${JSON.stringify(spec.version)}\n` },
    ...(spec.extraTar ?? []),
  ])
  return { filename: `${top}.tar.gz`, body, ...digests(body), metadata: pkgInfo, version: spec.version, kind: 'sdist' }
}
