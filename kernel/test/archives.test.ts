import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { crc32, deflateRawSync, gzipSync } from 'node:zlib'
import tarStream from 'tar-stream'
import { readZip, readTar, spoolTo, checkEntryName } from '../src/archives/archives.ts'

/** A minimal zip writer that, unlike real tools, will write hostile entries. */
function rawZip(entries: Array<{ name: string; data?: Buffer; mode?: number; deflate?: boolean; lieSize?: number }>): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0)
    const body = e.deflate ? deflateRawSync(data) : data
    const name = Buffer.from(e.name)
    const crc = crc32(data)
    const size = e.lieSize ?? data.length
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0, 6)
    local.writeUInt16LE(e.deflate ? 8 : 0, 8)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(size, 22)
    local.writeUInt16LE(name.length, 26)
    locals.push(local, name, body)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(0x031e, 4) // made by unix
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(e.deflate ? 8 : 0, 10)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(size, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(((e.mode ?? 0o100644) << 16) >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
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

async function tarball(entries: Array<{ name: string; data?: string; type?: 'file' | 'symlink' | 'link' | 'directory'; linkname?: string }>): Promise<Buffer> {
  const pack = tarStream.pack()
  for (const e of entries) {
    if (e.type === 'symlink' || e.type === 'link') pack.entry({ name: e.name, type: e.type, linkname: e.linkname ?? '/etc/passwd' })
    else if (e.type === 'directory') pack.entry({ name: e.name, type: 'directory' })
    else pack.entry({ name: e.name }, e.data ?? '')
  }
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack) chunks.push(c as Buffer)
  return gzipSync(Buffer.concat(chunks))
}

const Archives = suite<{ dir: string }>('archives')
Archives.before.each((t) => {
  t.dir = mkdtempSync(join(tmpdir(), 'bh-arch-'))
})
Archives.after.each((t) => {
  rmSync(t.dir, { recursive: true, force: true })
})

async function zipNames(dir: string, zip: Buffer, limits = {}): Promise<string[]> {
  const path = join(dir, `z${Math.random()}.zip`)
  writeFileSync(path, zip)
  const names: string[] = []
  await readZip(path, limits, async (e, read) => {
    names.push(e.name)
    if (e.type === 'file') await read()
  })
  return names
}

async function refused(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    await p
  } catch (err) {
    const e = err as { code?: string; message: string }
    assert.is(e.code, code, e.message)
    assert.match(e.message, pattern)
    return
  }
  assert.unreachable(`expected ${code}`)
}

Archives('entry names: escapes, absolute paths, backslashes and NUL are refused', () => {
  assert.equal(checkEntryName('./a/b.txt'), { name: 'a/b.txt', directory: false })
  assert.equal(checkEntryName('a/dir/'), { name: 'a/dir/', directory: true })
  for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/x', 'a\\b', 'a//b', 'a/./b', 'a\0b', '']) {
    assert.throws(() => checkEntryName(bad), (e: any) => e.code === 'BH_INPUT', bad)
  }
})

Archives('a normal zip is read entry by entry', async ({ dir }) => {
  const names = await zipNames(dir, rawZip([{ name: 'm@v1/go.mod', data: Buffer.from('module m\n'), deflate: true }, { name: 'm@v1/a.go', data: Buffer.from('package m') }]))
  assert.equal(names, ['m@v1/go.mod', 'm@v1/a.go'])
})

Archives('zip slip, symlinks, duplicates and prefixes are refused', async ({ dir }) => {
  await refused(zipNames(dir, rawZip([{ name: '../../evil.sh', data: Buffer.from('x') }])), 'BH_INPUT', /escapes/)
  await refused(zipNames(dir, rawZip([{ name: 'link', data: Buffer.from('/etc/passwd'), mode: 0o120777 }])), 'BH_INPUT', /link/)
  await refused(zipNames(dir, rawZip([{ name: 'a.txt', data: Buffer.from('1') }, { name: 'a.txt', data: Buffer.from('2') }])), 'BH_INPUT', /duplicate/)
  await refused(zipNames(dir, rawZip([{ name: 'other/x', data: Buffer.from('1') }]), { requirePrefix: 'm@v1/' }), 'BH_INPUT', /not under "m@v1\/"/)
})

Archives('zip bombs are stopped while inflating, even with lying headers', async ({ dir }) => {
  const zeros = Buffer.alloc(20 * 1024 * 1024)
  await refused(zipNames(dir, rawZip([{ name: 'bomb', data: zeros, deflate: true }]), { maxEntryBytes: 1024 * 1024 }), 'BH_TOO_LARGE', /expands past/)
  await refused(
    zipNames(dir, rawZip([1, 2, 3].map((i) => ({ name: `b${i}`, data: Buffer.alloc(4 * 1024 * 1024), deflate: true }))), { maxTotalBytes: 8 * 1024 * 1024 }),
    'BH_TOO_LARGE', /archive expands past/,
  )
  // The central directory claims 10 bytes; inflating gives far more: refused either way.
  try {
    await zipNames(dir, rawZip([{ name: 'liar', data: zeros, deflate: true, lieSize: 10 }]), { maxEntryBytes: 1024 * 1024 })
    assert.unreachable('a lying entry size must be refused')
  } catch (err) {
    assert.ok(['BH_TOO_LARGE', 'BH_INPUT'].includes((err as { code?: string }).code ?? ''), String(err))
  }
  await refused(zipNames(dir, rawZip(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}` })) ), { maxEntries: 10 }), 'BH_TOO_LARGE', /more than 10 entries/)
  await refused(zipNames(dir, Buffer.from('not a zip at all')), 'BH_INPUT', /not a valid zip/)
  // Entries a caller never reads still count: their declared sizes add up.
  const path = join(dir, 'unread.zip')
  writeFileSync(path, rawZip([1, 2, 3].map((i) => ({ name: `u${i}`, data: Buffer.alloc(4096), deflate: true }))))
  await refused(readZip(path, { maxTotalBytes: 10_000 }, () => {}), 'BH_TOO_LARGE', /archive expands past 10000 bytes/)
})

Archives('tar: escapes, links and bombs are refused; normal entries read', async () => {
  const good = await tarball([{ name: 'package/package.json', data: '{"name":"a"}' }, { name: 'package/index.js', data: '1' }])
  const seen: Array<[string, string]> = []
  await readTar(good, { gzip: true, requirePrefix: 'package/' }, async (e, read) => {
    seen.push([e.name, (await read()).toString()])
  })
  assert.equal(seen, [['package/package.json', '{"name":"a"}'], ['package/index.js', '1']])
  await refused(readTar(await tarball([{ name: 'package/../../x', data: 'x' }]), { gzip: true }, () => {}), 'BH_INPUT', /escapes/)
  await refused(readTar(await tarball([{ name: 'package/l', type: 'symlink' }]), { gzip: true }, () => {}), 'BH_INPUT', /symlink/)
  await refused(readTar(await tarball([{ name: 'package/h', type: 'link' }]), { gzip: true }, () => {}), 'BH_INPUT', /link/)
  await refused(readTar(await tarball([{ name: '/abs', data: 'x' }]), { gzip: true }, () => {}), 'BH_INPUT', /absolute/)
  const big = await tarball([{ name: 'package/big', data: 'x'.repeat(3 * 1024 * 1024) }])
  await refused(readTar(big, { gzip: true, maxEntryBytes: 1024 * 1024 }, async (_e, read) => {
    await read()
  }), 'BH_TOO_LARGE', /larger than/)
  await refused(readTar(Buffer.from('garbage'), { gzip: true }, () => {}), 'BH_INPUT', /not a valid gzip-compressed tar/)
})

Archives('spooled files carry digests, enforce limits and clean up', async ({ dir }) => {
  const data = Buffer.from('hello spool')
  const f = await spoolTo(dir, Readable.from([data]))
  assert.is(f.size, data.length)
  assert.is(f.sha256, createHash('sha256').update(data).digest('hex'))
  assert.is(f.sha512, createHash('sha512').update(data).digest('hex'))
  assert.ok(existsSync(f.path))
  await f.cleanup()
  await f.cleanup()
  assert.not.ok(existsSync(f.path))
  await refused(spoolTo(dir, Readable.from([Buffer.alloc(2048)]), 1024), 'BH_TOO_LARGE', /exceeds 1024/)
  assert.equal(readdirSync(dir), [], 'a refused spool leaves no file')
})

Archives.run()
