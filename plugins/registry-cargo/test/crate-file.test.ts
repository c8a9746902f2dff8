import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { gzipSync } from 'node:zlib'
import type { ArchiveService } from '@batlehub/sdk'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import { CrateInspector } from '../src/crate-file.ts'
import { readPublishFrame } from '../src/publish-frame.ts'
import { crateBytes, manifestOf, tar, type TarMember } from './fixtures.ts'

// The kernel's own archive reader, as registry contexts receive it.
let kernel: TestKernel
let archives: ArchiveService

/** Runs bytes through the inspector in small chunks; returns what passed through, or the error. */
async function inspect(bytes: Buffer, name = 'demo', version = '0.1.0', limits: { maxUnpackedBytes?: number; maxEntries?: number } = {}) {
  const inspector = new CrateInspector(archives, { name, version, maxUnpackedBytes: limits.maxUnpackedBytes ?? 1 << 24, maxEntries: limits.maxEntries ?? 100 })
  const chunks: Buffer[] = []
  const chunked = async function* () {
    for (let i = 0; i < bytes.length; i += 97) yield bytes.subarray(i, i + 97)
  }
  let ended = false
  try {
    await pipeline(Readable.from(chunked()), inspector, new Writable({
      write(c, _e, cb) { chunks.push(c); cb() },
      final(cb) { ended = true; cb() },
    }))
    return { ok: true as const, passed: Buffer.concat(chunks), facts: inspector.facts! }
  } catch (err) {
    return { ok: false as const, error: err as Error & { code?: string; status?: number }, ended }
  }
}

const root = 'demo-0.1.0'
const members = (extra: TarMember[] = [], manifest = manifestOf({ name: 'demo', version: '0.1.0' })): TarMember[] => [
  { path: `${root}/Cargo.toml`, data: manifest },
  { path: `${root}/src/lib.rs`, data: 'pub fn f() {}\n' },
  ...extra,
]

const Crate = suite('.crate inspection')

Crate.before(async () => {
  kernel = await createTestKernel()
  archives = (kernel as unknown as { kernel: { archives: ArchiveService } }).kernel.archives
})
Crate.after(async () => {
  await kernel.close()
})

Crate('a well-formed crate passes through unchanged', async () => {
  const bytes = crateBytes({ name: 'demo', version: '0.1.0' })
  const r = await inspect(bytes)
  assert.ok(r.ok, r.ok ? '' : r.error.message)
  if (!r.ok) return
  assert.ok(r.passed.equals(bytes))
  assert.is((r.facts.manifest.package as any).name, 'demo')
  assert.is(r.facts.entries, 3)
})

Crate('long paths (GNU long names and ustar prefix) are resolved before checking', async () => {
  const deep = `${root}/src/${'d'.repeat(120)}/mod.rs`
  const r = await inspect(gzipSync(tar(members([{ path: deep, data: 'x' }]))))
  assert.ok(r.ok, r.ok ? '' : r.error.message)
  // A long name escaping the crate is caught even though its 100-byte header name looks fine.
  const evil = `${root}/${'a'.repeat(100)}/../../../../etc/passwd`
  const bad = await inspect(gzipSync(tar(members([{ path: evil, data: 'x' }]))))
  assert.not.ok(bad.ok)
  if (!bad.ok) assert.match(bad.error.message, /escapes the archive/)
})

const refusals: Array<[string, TarMember[] | Buffer, RegExp]> = [
  ['path traversal', members([{ path: `${root}/../../evil.rs`, data: 'x' }]), /escapes the archive/],
  ['absolute path', members([{ path: '/etc/cron.d/evil', data: 'x' }]), /absolute path/],
  ['entry outside the crate directory', members([{ path: 'other-0.1.0/src/lib.rs', data: 'x' }]), /is not under "demo-0.1.0\/"/],
  ['backslash path', members([{ path: `${root}\\..\\evil`, data: 'x' }]), /backslash/],
  ['symlink', members([{ path: `${root}/link`, type: '2', linkPath: '/etc/passwd' }]), /is a symlink/],
  ['hard link', members([{ path: `${root}/hard`, type: '1', linkPath: `${root}/src/lib.rs` }]), /is a link/],
  ['device node', members([{ path: `${root}/dev`, type: '3' }]), /is a character-device/],
  ['missing Cargo.toml', [{ path: `${root}/src/lib.rs`, data: 'x' }], /Cargo.toml is missing/],
  ['Cargo.toml naming another crate', members([], manifestOf({ name: 'other', version: '0.1.0' })), /names crate "other"/],
  ['Cargo.toml with another version', members([], manifestOf({ name: 'demo', version: '9.9.9' })), /has version "9.9.9"/],
  ['Cargo.toml that is not TOML', members([], '[package\nname = '), /not valid TOML/],
  ['Cargo.toml twice', members([{ path: `${root}/Cargo.toml`, data: manifestOf({ name: 'demo', version: '0.1.0' }) }]), /duplicate entry/],
]

for (const [what, input, re] of refusals) {
  Crate(`refuses: ${what}`, async () => {
    const r = await inspect(Buffer.isBuffer(input) ? input : gzipSync(tar(input)))
    assert.not.ok(r.ok, 'accepted')
    if (r.ok) return
    assert.match(r.error.message, re)
    assert.is(r.error.code, 'BH_CARGO_BAD_CRATE')
    assert.is(r.error.status, 400)
    assert.not.ok(r.ended, 'the consumer never saw the end of the stream')
  })
}

Crate('refuses bytes that are not gzip, and gzip that is not tar', async () => {
  const notGzip = await inspect(Buffer.from('PK\x03\x04 this is a zip'))
  assert.not.ok(notGzip.ok)
  if (!notGzip.ok) assert.match(notGzip.error.message, /not a valid gzip-compressed tar archive/)
  const notTar = await inspect(gzipSync(Buffer.alloc(2048, 'x')))
  assert.not.ok(notTar.ok)
  if (!notTar.ok) assert.match(notTar.error.message, /not a valid gzip-compressed tar archive/)
  const truncated = crateBytes({ name: 'demo', version: '0.1.0' })
  const cut = await inspect(truncated.subarray(0, truncated.length - 20))
  assert.not.ok(cut.ok)
})

Crate('refuses a decompression bomb without inflating all of it', async () => {
  // 64 MiB of zeros in one file compresses to ~64 KiB.
  const bomb = gzipSync(tar(members([{ path: `${root}/zeros.bin`, data: Buffer.alloc(64 * 1024 * 1024) }])))
  const started = Date.now()
  const r = await inspect(bomb, 'demo', '0.1.0', { maxUnpackedBytes: 1024 * 1024 })
  assert.not.ok(r.ok)
  if (!r.ok) assert.match(r.error.message, /(expands past|is larger than) 1048576 bytes/)
  if (!r.ok) assert.is(r.error.status, 413)
  assert.ok(Date.now() - started < 5000)
})

Crate('refuses too many entries', async () => {
  const many = Array.from({ length: 20 }, (_, i) => ({ path: `${root}/src/m${i}.rs`, data: '' }))
  const r = await inspect(gzipSync(tar(members(many))), 'demo', '0.1.0', { maxEntries: 10 })
  assert.not.ok(r.ok)
  if (!r.ok) assert.match(r.error.message, /more than 10 entries/)
})

Crate.run()

const Frame = suite('cargo publish frame')

function frame(json: string | Buffer, crate: Buffer, overrides: { jsonLength?: number; crateLength?: number; trailing?: Buffer } = {}): Buffer {
  const j = Buffer.isBuffer(json) ? json : Buffer.from(json)
  const a = Buffer.alloc(4)
  a.writeUInt32LE(overrides.jsonLength ?? j.length)
  const b = Buffer.alloc(4)
  b.writeUInt32LE(overrides.crateLength ?? crate.length)
  return Buffer.concat([a, j, b, crate, overrides.trailing ?? Buffer.alloc(0)])
}

async function readAll(r: Readable): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const c of r) out.push(c as Buffer)
  return Buffer.concat(out)
}

const chunks = (b: Buffer, size = 7) => Readable.from((function* () {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
})())

const limits = { maxMetadataBytes: 1024, maxCrateBytes: 4096 }

Frame('splits metadata and crate, streaming the crate', async () => {
  const crate = crateBytes({ name: 'demo', version: '0.1.0' })
  const f = await readPublishFrame(chunks(frame('{"name":"demo","vers":"0.1.0"}', crate)), limits)
  assert.equal(f.metadata, { name: 'demo', vers: '0.1.0' })
  assert.is(f.crateLength, crate.length)
  assert.ok((await readAll(f.crate)).equals(crate))
})

Frame('refuses malformed frames', async () => {
  const crate = Buffer.from('crate-bytes')
  const cases: Array<[Buffer, RegExp]> = [
    [Buffer.alloc(0), /empty or truncated/],
    [Buffer.from([1, 0]), /empty or truncated/],
    [frame('{"a":1}', crate, { jsonLength: 100 }), /ended inside the JSON/],
    [frame('{not json', crate), /not valid JSON/],
    [frame(Buffer.from([0x7b, 0xff, 0x7d]), crate), /not valid JSON/],
    [frame('{}', crate).subarray(0, 8), /before the .crate length/],
    [frame('{}', Buffer.alloc(0)), /the .crate is empty/],
  ]
  for (const [body, re] of cases) {
    try {
      const f = await readPublishFrame(chunks(body), limits)
      await readAll(f.crate)
      assert.unreachable(`accepted ${re}`)
    } catch (err) {
      assert.match((err as Error).message, re)
    }
  }
})

Frame('a .crate shorter or longer than declared fails the stream', async () => {
  const crate = Buffer.alloc(100, 1)
  const short = await readPublishFrame(chunks(frame('{}', crate, { crateLength: 200 })), limits)
  try {
    await readAll(short.crate)
    assert.unreachable()
  } catch (err) {
    assert.match((err as Error).message, /ended 100 bytes before the end/)
  }
  const long = await readPublishFrame(chunks(frame('{}', crate, { trailing: Buffer.from('junk') })), limits)
  try {
    await readAll(long.crate)
    assert.unreachable()
  } catch (err) {
    assert.match((err as Error).message, /data after the .crate/)
  }
})

Frame('declared sizes over the limits are refused before reading them (413)', async () => {
  for (const [body, re] of [
    [frame('{}', Buffer.alloc(1), { jsonLength: 5000 }), /metadata is 5000 bytes/],
    [frame('{}', Buffer.alloc(1), { crateLength: 5000 }), /max upload size is: 4096 bytes/],
  ] as Array<[Buffer, RegExp]>) {
    try {
      await readPublishFrame(chunks(body), limits)
      assert.unreachable()
    } catch (err) {
      assert.match((err as Error).message, re)
      assert.is((err as { status?: number }).status, 413)
    }
  }
})

Frame.run()
