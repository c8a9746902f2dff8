/**
 * A Maven 2 repository generated for tests: real JARs (ZIP archives with a manifest and a
 * resource), POMs, `.sha1`/`.md5` files and maven-metadata.xml, written to a temporary folder and
 * served on 127.0.0.1 — optionally backed by a second repository folder (the machine's local Maven
 * repository, for the plugins `mvn` itself needs).
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, normalize, sep } from 'node:path'
import { crc32, deflateRawSync } from 'node:zlib'

/** A ZIP archive (deflated entries), as `jar` writes them. */
export function zip(entries: Record<string, string | Buffer>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  // A fixed DOS time keeps fixtures byte-identical between runs.
  const dosTime = (12 << 11) | (0 << 5)
  const dosDate = ((2026 - 1980) << 9) | (1 << 5) | 1
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8')
    const packed = deflateRawSync(data)
    const nameBuf = Buffer.from(name, 'utf8')
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(8, 8) // deflate
    local.writeUInt16LE(dosTime, 10)
    local.writeUInt16LE(dosDate, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(packed.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBuf.length, 26)
    local.writeUInt16LE(0, 28)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(8, 10)
    central.writeUInt16LE(dosTime, 12)
    central.writeUInt16LE(dosDate, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(packed.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(nameBuf.length, 28)
    central.writeUInt32LE(offset, 42)
    locals.push(local, nameBuf, packed)
    centrals.push(central, nameBuf)
    offset += local.length + nameBuf.length + packed.length
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(Object.keys(entries).length, 8)
  end.writeUInt16LE(Object.keys(entries).length, 10)
  end.writeUInt32LE(centralSize, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, ...centrals, end])
}

/** A JAR with a manifest and one resource naming its coordinates. */
export function jar(groupId: string, artifactId: string, version: string, extra: Record<string, string | Buffer> = {}): Buffer {
  const resource = `${groupId.replace(/\./g, '/')}/${artifactId.replace(/-/g, '_')}/info.properties`
  return zip({
    'META-INF/MANIFEST.MF': `Manifest-Version: 1.0\r\nCreated-By: batlehub-test\r\nImplementation-Title: ${artifactId}\r\nImplementation-Version: ${version}\r\n\r\n`,
    [resource]: `groupId=${groupId}\nartifactId=${artifactId}\nversion=${version}\n`,
    ...extra,
  })
}

export interface Dependency {
  groupId: string
  artifactId: string
  version: string
  scope?: string
}

/** A POM. */
export function pom(o: { groupId: string; artifactId: string; version: string; packaging?: string; dependencies?: Dependency[]; description?: string; extra?: string }): string {
  const deps = (o.dependencies ?? []).map((d) =>
    `    <dependency>\n      <groupId>${d.groupId}</groupId>\n      <artifactId>${d.artifactId}</artifactId>\n      <version>${d.version}</version>\n${d.scope ? `      <scope>${d.scope}</scope>\n` : ''}    </dependency>`,
  )
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<project xmlns="http://maven.apache.org/POM/4.0.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">',
    '  <modelVersion>4.0.0</modelVersion>',
    `  <groupId>${o.groupId}</groupId>`,
    `  <artifactId>${o.artifactId}</artifactId>`,
    `  <version>${o.version}</version>`,
    `  <packaging>${o.packaging ?? 'jar'}</packaging>`,
    ...(o.description ? [`  <description>${o.description}</description>`] : []),
    ...(deps.length ? ['  <dependencies>', ...deps, '  </dependencies>'] : []),
    ...(o.extra ? [o.extra] : []),
    '</project>',
    '',
  ].join('\n')
}

export const sha1 = (data: Buffer | string) => createHash('sha1').update(data).digest('hex')
export const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex')

export interface FixtureArtifact {
  groupId: string
  artifactId: string
  version: string
  packaging?: string
  dependencies?: Dependency[]
  description?: string
}

/** A repository folder and what it holds. */
export interface FixtureRepo {
  readonly dir: string
  /** Bytes of every file by repository path. */
  readonly files: ReadonlyMap<string, Buffer>
  path(groupId: string, artifactId: string, version: string, ext: string, classifier?: string): string
  remove(): void
}

/** Writes artifacts (POM, JAR unless packaging is pom, .sha1/.md5 of each) and artifact-level maven-metadata.xml. */
export function writeRepository(artifacts: readonly FixtureArtifact[], dir = mkdtempSync(join(tmpdir(), 'bh-maven-fixture-'))): FixtureRepo {
  const files = new Map<string, Buffer>()
  const put = (path: string, data: Buffer | string, checksums = true) => {
    const buf = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8')
    files.set(path, buf)
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), buf)
    if (checksums) {
      put(`${path}.sha1`, sha1(buf), false)
      put(`${path}.md5`, md5(buf), false)
    }
  }
  const pathOf = (g: string, a: string, v: string, ext: string, classifier?: string) =>
    `${g.replace(/\./g, '/')}/${a}/${v}/${a}-${v}${classifier ? `-${classifier}` : ''}.${ext}`
  const byArtifact = new Map<string, FixtureArtifact[]>()
  for (const art of artifacts) {
    put(pathOf(art.groupId, art.artifactId, art.version, 'pom'), pom(art))
    if ((art.packaging ?? 'jar') !== 'pom') put(pathOf(art.groupId, art.artifactId, art.version, 'jar'), jar(art.groupId, art.artifactId, art.version))
    const key = `${art.groupId}:${art.artifactId}`
    byArtifact.set(key, [...(byArtifact.get(key) ?? []), art])
  }
  for (const list of byArtifact.values()) {
    const { groupId, artifactId } = list[0]!
    const versions = list.map((a) => a.version)
    const latest = versions[versions.length - 1]!
    const release = [...versions].reverse().find((v) => !v.endsWith('-SNAPSHOT'))
    put(`${groupId.replace(/\./g, '/')}/${artifactId}/maven-metadata.xml`, [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<metadata>',
      `  <groupId>${groupId}</groupId>`,
      `  <artifactId>${artifactId}</artifactId>`,
      '  <versioning>',
      `    <latest>${latest}</latest>`,
      ...(release ? [`    <release>${release}</release>`] : []),
      '    <versions>',
      ...versions.map((v) => `      <version>${v}</version>`),
      '    </versions>',
      '    <lastUpdated>20260102030405</lastUpdated>',
      '  </versioning>',
      '</metadata>',
      '',
    ].join('\n'))
  }
  return { dir, files, path: pathOf, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * The standard test upstream: `com.example:lib-b` 1.0.0 and 1.1.0, `com.example:lib-a` 1.0.0
 * (depends on lib-b 1.0.0) and the pre-release 2.0.0-beta-1 (depends on lib-b 1.1.0).
 */
export function standardRepository(dir?: string): FixtureRepo {
  return writeRepository([
    { groupId: 'com.example', artifactId: 'lib-b', version: '1.0.0', description: 'Library B' },
    { groupId: 'com.example', artifactId: 'lib-b', version: '1.1.0', description: 'Library B' },
    { groupId: 'com.example', artifactId: 'lib-a', version: '1.0.0', description: 'Library A', dependencies: [{ groupId: 'com.example', artifactId: 'lib-b', version: '1.0.0' }] },
    { groupId: 'com.example', artifactId: 'lib-a', version: '2.0.0-beta-1', description: 'Library A', dependencies: [{ groupId: 'com.example', artifactId: 'lib-b', version: '1.1.0' }] },
  ], dir)
}

export interface RepositoryServer {
  readonly url: string
  /** Paths of GET/HEAD requests, in order. */
  readonly paths: string[]
  /** Answer every request with this status from now on (simulates an upstream outage), or null to serve again. */
  failWith(status: number | null): void
  /** Replaces (or adds) a file at a repository path. */
  override(path: string, body: Buffer | string | null): void
  close(): Promise<void>
}

/** Serves repository folders (first match wins) on 127.0.0.1. */
export async function serveRepositories(roots: readonly string[]): Promise<RepositoryServer> {
  const paths: string[] = []
  const overrides = new Map<string, Buffer | null>()
  const sockets = new Set<Socket>()
  let failure: number | null = null
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!
    paths.push(path)
    if (failure !== null) {
      res.writeHead(failure)
      res.end()
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405)
      res.end()
      return
    }
    const rel = normalize(decodeURIComponent(path)).replace(/^[/\\]+/, '')
    let data: Buffer | null | undefined = overrides.get(rel)
    if (data === undefined) {
      for (const root of roots) {
        const file = join(root, rel)
        if (file.startsWith(normalize(root) + sep) && existsSync(file) && statSync(file).isFile()) {
          data = readFileSync(file)
          break
        }
      }
    }
    if (!data) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('not found')
      return
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(data.length) })
    res.end(req.method === 'HEAD' ? undefined : data)
  }
  const server: Server = createServer(handle)
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    failWith(status) {
      failure = status
    },
    override(path, body) {
      overrides.set(path, body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body))
    },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
    }),
  }
}
