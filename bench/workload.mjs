// The benchmark workload: a generated registry of npm packages served by the fixture registry of
// plugins/registry-npm (real tarballs, real digests).
//
// - bw-000 … bw-332: 333 packages, two versions each, a dependency tree of fan-out 3 rooted at
//   bw-000, so installing bw-000 installs all 333;
// - bw-small: one version (a small packument);
// - bw-large: 250 versions with 20 dependencies each (a ~250 KB packument);
// - bw-huge: one ~300 MB tarball, generated once on disk (incompressible, so it stays ~300 MB).
import { createHash, randomBytes } from 'node:crypto'
import { createWriteStream, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { pack } from 'tar-stream'

export const PACKAGES = 333
export const pkgName = (i) => `bw-${String(i).padStart(3, '0')}`

/** Writes (once) a ~`mb` MiB npm tarball to the temp dir and returns its path and digests. */
export async function hugeTarball(mb = 300) {
  const path = join(tmpdir(), `bh-bench-huge-${mb}.tgz`)
  const meta = `${path}.json`
  if (existsSync(path) && existsSync(meta)) return { path, ...JSON.parse(readFileSync(meta, 'utf8')) }
  const manifest = { name: 'bw-huge', version: '1.0.0', license: 'MIT' }
  const p = pack()
  const sha512 = createHash('sha512')
  const sha1 = createHash('sha1')
  const hasher = new Transform({
    transform(chunk, _enc, cb) {
      sha512.update(chunk)
      sha1.update(chunk)
      cb(null, chunk)
    },
  })
  const tmp = `${path}.tmp`
  const done = pipeline(p, createGzip({ level: 1 }), hasher, createWriteStream(tmp))
  p.entry({ name: 'package/package.json' }, JSON.stringify(manifest))
  const size = mb * 1024 * 1024
  const entry = p.entry({ name: 'package/blob.bin', size })
  const block = randomBytes(1024 * 1024)
  for (let i = 0; i < mb; i++) {
    // Vary each MiB so gzip cannot find long-range repeats either.
    block.writeUInt32LE(i, 0)
    if (!entry.write(Buffer.from(block))) await new Promise((r) => entry.once('drain', r))
  }
  entry.end()
  p.finalize()
  await done
  const digests = { integrity: `sha512-${sha512.digest('base64')}`, shasum: sha1.digest('hex') }
  renameSync(tmp, path)
  writeFileSync(meta, JSON.stringify(digests))
  return { path, ...digests }
}

/** The fixture package specs of the workload. */
export async function workload({ huge = true } = {}) {
  const specs = []
  const filler = (i) => `// ${'lorem ipsum dolor sit amet '.repeat(40)}\nmodule.exports.n = ${i}\n`
  for (let i = 0; i < PACKAGES; i++) {
    const deps = {}
    for (let c = i * 3 + 1; c <= i * 3 + 3 && c < PACKAGES; c++) deps[pkgName(c)] = '^1.0.0'
    specs.push({
      name: pkgName(i),
      versions: [
        { version: '1.0.0', dependencies: deps, files: { 'lib.js': filler(i) } },
        { version: '1.1.0', dependencies: deps, files: { 'lib.js': filler(i + 1) } },
      ],
    })
  }
  specs.push({ name: 'bw-small', versions: [{ version: '1.0.0' }] })
  const largeDeps = Object.fromEntries(Array.from({ length: 20 }, (_, d) => [`some-dependency-${d}`, `^${d}.2.3`]))
  specs.push({
    name: 'bw-large',
    description: 'a package with a long history',
    versions: Array.from({ length: 250 }, (_, v) => ({
      version: `1.${Math.floor(v / 10)}.${v % 10}`,
      dependencies: largeDeps,
      manifest: { engines: { node: '>=18' }, keywords: ['bench', 'large', 'packument'] },
    })),
  })
  if (huge) {
    const h = await hugeTarball()
    specs.push({ name: 'bw-huge', versions: [{ version: '1.0.0', tarballPath: h.path, digests: { integrity: h.integrity, shasum: h.shasum } }] })
  }
  return specs
}
