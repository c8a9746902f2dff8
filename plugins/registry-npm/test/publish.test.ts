import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { defineRegistryPlugin, type ArchiveService } from '@batlehub/sdk'
import { createTestKernel, type TestKernel } from '@batlehub/sdk/testing'
import { parseName } from '../src/names.ts'
import { diffPackument, isPublishBody, parsePublish, sriDigest } from '../src/publish.ts'
import { DEFAULT_TARBALL_LIMITS, inspectTarball } from '../src/tarball.ts'
import { makePackageTarball, makeTar, publishBody } from './support/fixtures.ts'
import { gzipSync } from 'node:zlib'

// The kernel's real archive service, taken from a registry context of a test kernel.
let archives: ArchiveService
const harness = defineRegistryPlugin({
  id: 'npm-archive-harness',
  capabilities: { proxy: true, publish: false, search: false, yank: false },
  setup(ctx) {
    archives = ctx.archives
    return {}
  },
})

const Publish = suite<{ kernel: TestKernel }>('npm publish parsing and tarball inspection')
Publish.before(async (t) => {
  t.kernel = await createTestKernel({ plugins: [harness], config: { registries: [{ name: 'h', type: 'npm-archive-harness', mode: 'proxy', upstreams: ['http://127.0.0.1:9'] }] } })
})
Publish.after(async (t) => {
  await t.kernel.close()
})

const name = parseName('@scope/pkg')!
const manifest = { name: '@scope/pkg', version: '1.0.0', description: 'x' }

async function code(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p
  } catch (err) {
    return { code: (err as any).code, message: (err as Error).message }
  }
  throw new Error('expected a rejection')
}

Publish('a libnpmpublish body is accepted: digests recomputed, sizes added, tarball URL dropped', async () => {
  const tgz = await makePackageTarball(manifest, { 'index.js': 'x' })
  const body = publishBody(manifest, tgz, { tag: 'beta' })
  assert.ok(isPublishBody(body))
  const p = await parsePublish(body, name, archives, DEFAULT_TARBALL_LIMITS)
  assert.is(p.version, '1.0.0')
  assert.is(p.tag, 'beta')
  assert.is(p.filename, 'pkg-1.0.0.tgz')
  assert.is(p.manifest.dist.fileCount, 2)
  assert.is(p.manifest.dist.tarball, undefined)
  assert.is(p.integrity, body.versions['1.0.0'].dist.integrity)
  assert.ok(p.tarball.equals(tgz))
})

Publish('mismatched names and versions are refused', async () => {
  const tgz = await makePackageTarball(manifest)
  assert.match((await code(parsePublish(publishBody(manifest, tgz), parseName('@scope/other')!, archives, DEFAULT_TARBALL_LIMITS))).message, /does not match the URL/)
  const wrongInside = await makePackageTarball({ ...manifest, version: '2.0.0' })
  assert.match((await code(parsePublish(publishBody(manifest, wrongInside), name, archives, DEFAULT_TARBALL_LIMITS))).message, /has version "2.0.0"/)
  const otherName = await makePackageTarball({ ...manifest, name: '@scope/evil' })
  assert.match((await code(parsePublish(publishBody(manifest, otherName), name, archives, DEFAULT_TARBALL_LIMITS))).message, /names "@scope\/evil"/)
  const body = publishBody(manifest, tgz)
  body.versions['1.0.0'].version = '1.0.1'
  assert.match((await code(parsePublish(body, name, archives, DEFAULT_TARBALL_LIMITS))).message, /says version/)
  const caps = publishBody({ ...manifest, name: 'Caps' }, tgz)
  assert.match((await code(parsePublish(caps, parseName('Caps')!, archives, DEFAULT_TARBALL_LIMITS))).message, /capital letters/)
})

Publish('attachments: missing, not base64, wrong length, wrong integrity or shasum', async () => {
  const tgz = await makePackageTarball(manifest)
  const noAtt = publishBody(manifest, tgz)
  noAtt._attachments = {}
  assert.match((await code(parsePublish(noAtt, name, archives, DEFAULT_TARBALL_LIMITS))).message, /no tarball attachment/)
  const notB64 = publishBody(manifest, tgz)
  notB64._attachments['@scope/pkg-1.0.0.tgz'].data = '!!!not base64!!!'
  assert.match((await code(parsePublish(notB64, name, archives, DEFAULT_TARBALL_LIMITS))).message, /not base64/)
  const badLen = publishBody(manifest, tgz)
  badLen._attachments['@scope/pkg-1.0.0.tgz'].length = 5
  assert.match((await code(parsePublish(badLen, name, archives, DEFAULT_TARBALL_LIMITS))).message, /declares 5 bytes/)
  const bad512 = publishBody(manifest, tgz)
  bad512.versions['1.0.0'].dist.integrity = `sha512-${Buffer.alloc(64).toString('base64')}`
  const e512 = await code(parsePublish(bad512, name, archives, DEFAULT_TARBALL_LIMITS))
  assert.is(e512.code, 'BH_INTEGRITY')
  assert.match(e512.message, /dist.integrity/)
  const badSha1 = publishBody(manifest, tgz)
  badSha1.versions['1.0.0'].dist.shasum = '0'.repeat(40)
  assert.is((await code(parsePublish(badSha1, name, archives, DEFAULT_TARBALL_LIMITS))).code, 'BH_INTEGRITY')
  const wrongKey = publishBody(manifest, tgz)
  wrongKey._attachments = { 'other-1.0.0.tgz': wrongKey._attachments['@scope/pkg-1.0.0.tgz'] }
  assert.match((await code(parsePublish(wrongKey, name, archives, DEFAULT_TARBALL_LIMITS))).message, /does not match/)
  assert.is(sriDigest('sha1-AAAA sha512-BBBB', 'sha512'), 'BBBB')
})

async function tarballError(tgz: Buffer, limits = DEFAULT_TARBALL_LIMITS): Promise<{ code: string; message: string }> {
  return code(inspectTarball(archives, tgz, limits))
}

Publish('hostile tarballs are refused', async () => {
  const pj = { name: 'package/package.json', body: JSON.stringify(manifest) }
  assert.match((await tarballError(Buffer.from('not gzip at all, definitely'))).message, /not gzip/)
  assert.match((await tarballError(gzipSync(Buffer.from('garbage that is not a tar archive'.repeat(40))))).message, /corrupt|not a valid/)
  const truncated = await makePackageTarball(manifest, { 'a.js': 'x'.repeat(5000) })
  assert.match((await tarballError(truncated.subarray(0, truncated.length - 30))).message, /corrupt|not a valid|unexpected end/i)
  assert.match((await tarballError(await makeTar([pj, { name: 'package/../../etc/passwd', body: 'x' }]))).message, /escapes/)
  assert.match((await tarballError(await makeTar([pj, { name: '/etc/passwd', body: 'x' }]))).message, /absolute/)
  assert.match((await tarballError(await makeTar([pj, { name: 'other/file.js', body: 'x' }]))).message, /not under "package\/"/)
  assert.match((await tarballError(await makeTar([pj, { name: 'package/link', type: 'symlink', linkname: '../../../etc/passwd' }]))).message, /symlink/)
  assert.match((await tarballError(await makeTar([pj, { name: 'package/hard', type: 'link', linkname: '/etc/passwd' }]))).message, /link/)
  assert.match((await tarballError(await makeTar([pj, { name: 'package/dev', type: 'character-device' }]))).message, /character-device/)
  assert.match((await tarballError(await makeTar([pj, pj]))).message, /duplicate/)
  assert.match((await tarballError(await makeTar([{ name: 'package/index.js', body: 'x' }]))).message, /no package\/package.json/)
  assert.match((await tarballError(await makeTar([{ name: 'package/package.json', body: '{not json' }]))).message, /not valid JSON/)
  // A gzip bomb: 64 MiB of zeros in entries never read, each under the entry limit, against a
  // 20 MiB total: stopped while inflating.
  const bomb = await makeTar([pj, ...Array.from({ length: 4 }, (_, i) => ({ name: `package/zero${i}.bin`, body: Buffer.alloc(16 * 1024 * 1024) }))])
  assert.ok(bomb.length < 1024 * 1024)
  const started = Date.now()
  assert.match((await tarballError(bomb, { ...DEFAULT_TARBALL_LIMITS, maxUnpackedBytes: 20 * 1024 * 1024 })).message, /unpacks to more than 20971520 bytes|expands past 20971520 bytes/)
  assert.match((await tarballError(bomb, { ...DEFAULT_TARBALL_LIMITS, maxUnpackedBytes: 1024 * 1024 })).message, /larger than 1048576 bytes|more than 1048576/)
  assert.ok(Date.now() - started < 5000)
  const many = await makeTar([pj, ...Array.from({ length: 20 }, (_, i) => ({ name: `package/f${i}`, body: 'x' }))])
  assert.match((await tarballError(many, { ...DEFAULT_TARBALL_LIMITS, maxEntries: 10 })).message, /more than 10 entries/)
})

Publish('packument updates: deprecations, removed versions, tag moves', () => {
  const current = { versions: [{ version: '1.0.0' }, { version: '1.1.0', deprecated: 'old' }], tags: { latest: '1.1.0', beta: '1.0.0' } }
  const d = diffPackument({ name: '@scope/pkg', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { deprecated: 'nope' } } }, name, current)
  assert.equal(d, { removeVersions: ['1.1.0'], deprecate: [{ version: '1.0.0', message: 'nope' }], setTags: { latest: '1.0.0' }, removeTags: ['beta'] })
  const undeprecate = diffPackument({ name: '@scope/pkg', versions: { '1.0.0': {}, '1.1.0': { deprecated: '' } } }, name, current)
  assert.equal(undeprecate.deprecate, [{ version: '1.1.0', message: '' }])
  assert.throws(() => diffPackument({ name: '@scope/pkg', versions: { '1.0.0': {}, '1.1.0': {}, '9.0.0': {} } }, name, current), /has no tarball/)
  assert.throws(() => diffPackument({ name: '@scope/other', versions: {} }, name, current), /does not match/)
  assert.throws(() => diffPackument({ name: '@scope/pkg', 'dist-tags': { latest: '7.0.0' }, versions: { '1.0.0': {} } }, name, current), /not a version/)
})

Publish.run()
