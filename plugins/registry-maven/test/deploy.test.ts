import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { createTestKernel, testDialects, type KernelTestHandle } from '@batlehub/kernel/testing'
import maven from '../src/index.ts'
import { parseArtifactMetadata, parseSnapshotMetadata } from '../src/metadata.ts'
import { jar, md5, pom, sha1 } from './support/fixture.ts'
import { basic, rawRequest } from './support/hub.ts'

const WRITER = 'writer-token-0123456789abcdef'
const READER = 'reader-token-0123456789abcdef'
const OTHER = 'other-writer-token-0123456789'
const MAX_ARTIFACT = 256 * 1024

/** Every file under the hub's storage root (blobs and key files). */
function storedFiles(hub: KernelTestHandle): string[] {
  const out: string[] = []
  const walk = (dir: string) => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const name of names) {
      const full = join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else out.push(full)
    }
  }
  walk(join(hub.dataDir, 'storage'))
  return out.sort()
}

const G = 'com/acme'
const A = 'greeter'
const dir = (v: string) => `${G}/${A}/${v}`

for (const dialect of testDialects()) {
  const Deploy = suite<{ hub: KernelTestHandle }>(`maven deploy (${dialect})`)

  Deploy.before.each(async (t) => {
    t.hub = await createTestKernel({
      database: dialect,
      plugins: [maven],
      config: {
        auth: [{ type: 'token', tokens: [
          { value: WRITER, role: 'user', user_id: 'ci', groups: ['deployers'] },
          { value: OTHER, role: 'user', user_id: 'mallory', groups: ['deployers'] },
          { value: READER, role: 'user', user_id: 'dev' },
        ] }],
        registries: [
          {
            name: 'internal', type: 'maven', mode: 'local', max_artifact_bytes: MAX_ARTIFACT, max_pom_bytes: 64 * 1024, staging_ttl_secs: 600,
            rbac: { user: ['releases:read'], deployers: ['releases:write'] },
          },
          { name: 'central', type: 'maven', mode: 'proxy', upstreams: ['http://127.0.0.1:9'] },
        ],
      },
    })
  })
  Deploy.after.each(async (t) => {
    await t.hub.close()
  })

  const put = (t: { hub: KernelTestHandle }, path: string, body: string | Buffer, token = WRITER) =>
    t.hub.request('PUT', `/proxy/internal/maven2/${path}`, { headers: basic(token), body })
  const get = (t: { hub: KernelTestHandle }, path: string, token = READER) =>
    t.hub.request('GET', `/proxy/internal/maven2/${path}`, { headers: basic(token) })

  const release = (v: string) => ({
    pom: pom({ groupId: 'com.acme', artifactId: A, version: v, description: 'Says hello' }),
    jar: jar('com.acme', A, v),
    sources: jar('com.acme', A, v, { 'com/acme/Greeter.java': 'class Greeter {}\n' }),
  })

  Deploy('jar-first order: files wait for the POM, which commits the version with them', async (t) => {
    const r = release('1.0.0')
    assert.is((await put(t, `${dir('1.0.0')}/${A}-1.0.0.jar`, r.jar)).status, 201)
    assert.is((await put(t, `${dir('1.0.0')}/${A}-1.0.0.jar.sha1`, sha1(r.jar))).status, 201)
    assert.is((await put(t, `${dir('1.0.0')}/${A}-1.0.0.jar.md5`, md5(r.jar))).status, 201)
    // Staged, not yet visible.
    assert.is((await get(t, `${dir('1.0.0')}/${A}-1.0.0.jar`)).status, 404)
    assert.is((await get(t, `${G}/${A}/maven-metadata.xml`)).status, 404)
    assert.is((await put(t, `${dir('1.0.0')}/${A}-1.0.0.pom`, r.pom)).status, 201)
    const got = await get(t, `${dir('1.0.0')}/${A}-1.0.0.jar`)
    assert.is(got.status, 200)
    assert.equal(got.body, r.jar)
    assert.is((await get(t, `${dir('1.0.0')}/${A}-1.0.0.jar.sha1`)).text(), sha1(r.jar))
    assert.is((await get(t, `${dir('1.0.0')}/${A}-1.0.0.pom.md5`)).text(), md5(r.pom))
    const meta = parseArtifactMetadata((await get(t, `${G}/${A}/maven-metadata.xml`)).body)
    assert.equal([meta.groupId, meta.artifactId, meta.versions, meta.latest, meta.release], ['com.acme', A, ['1.0.0'], '1.0.0', '1.0.0'])
    assert.match(meta.lastUpdated ?? '', /^\d{14}$/)
    const pkg = await t.hub.kernel.hosts.get('internal')!.hooks.listVersions!('com.acme:greeter', {})
    assert.equal(pkg!.map((v) => v.version), ['1.0.0'])
    assert.type(pkg![0]!.publishedAt, 'string')
  })

  Deploy('POM-first order (deploy plugin 3): later files and checksums are appended; mvn metadata uploads are checked and ignored', async (t) => {
    const r = release('1.1.0')
    assert.is((await put(t, `${dir('1.1.0')}/${A}-1.1.0.pom`, r.pom)).status, 201)
    assert.is((await put(t, `${dir('1.1.0')}/${A}-1.1.0.pom.sha1`, sha1(r.pom))).status, 201)
    assert.is((await put(t, `${dir('1.1.0')}/${A}-1.1.0.jar`, r.jar)).status, 201)
    assert.is((await put(t, `${dir('1.1.0')}/${A}-1.1.0.jar.sha1`, `${sha1(r.jar)}  ${A}-1.1.0.jar\n`)).status, 201)
    assert.is((await put(t, `${dir('1.1.0')}/${A}-1.1.0-sources.jar`, r.sources)).status, 201)
    const mvnMeta = `<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>com.acme</groupId><artifactId>${A}</artifactId><versioning><release>9.9</release><versions><version>9.9</version></versions></versioning></metadata>`
    assert.is((await put(t, `${G}/${A}/maven-metadata.xml`, mvnMeta)).status, 201)
    assert.is((await put(t, `${G}/${A}/maven-metadata.xml.sha1`, sha1(mvnMeta))).status, 201)
    const foreign = await put(t, `${G}/${A}/maven-metadata.xml`, '<metadata><groupId>org.evil</groupId></metadata>')
    assert.is(foreign.status, 400)
    const meta = parseArtifactMetadata((await get(t, `${G}/${A}/maven-metadata.xml`)).body)
    assert.equal(meta.versions, ['1.1.0'])
    assert.equal((await get(t, `${dir('1.1.0')}/${A}-1.1.0-sources.jar`)).body, r.sources)
  })

  Deploy('releases are immutable: a second POM or an existing file is 409 with the reason on the status line', async (t) => {
    const r = release('2.0.0')
    assert.is((await put(t, `${dir('2.0.0')}/${A}-2.0.0.pom`, r.pom)).status, 201)
    assert.is((await put(t, `${dir('2.0.0')}/${A}-2.0.0.jar`, r.jar)).status, 201)
    const before = storedFiles(t.hub)
    const again = await fetch(`${t.hub.url}/proxy/internal/maven2/${dir('2.0.0')}/${A}-2.0.0.pom`, { method: 'PUT', headers: basic(WRITER), body: r.pom })
    assert.is(again.status, 409)
    assert.match(again.statusText, /release com\.acme:greeter:2\.0\.0 already exists; releases are immutable/)
    assert.match(await again.text(), /already exists/)
    assert.is((await put(t, `${dir('2.0.0')}/${A}-2.0.0.jar`, jar('com.acme', A, '2.0.0', { evil: 'x' }))).status, 409)
    // After the deploy window a release takes no new files either.
    t.hub.clock.advance(601_000)
    assert.is((await put(t, `${dir('2.0.0')}/${A}-2.0.0-javadoc.jar`, r.sources)).status, 409)
    assert.equal(storedFiles(t.hub), before)
    assert.equal((await get(t, `${dir('2.0.0')}/${A}-2.0.0.jar`)).body, r.jar)
  })

  Deploy('a wrong checksum is refused with 400 and keeps nothing', async (t) => {
    const r = release('3.0.0')
    const empty = storedFiles(t.hub)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar`, r.jar)).status, 201)
    const bad = await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar.sha1`, '0123456789012345678901234567890123456789')
    assert.is(bad.status, 400)
    assert.match(bad.text(), /sha1 checksum mismatch for greeter-3\.0\.0\.jar/)
    // The staged JAR went with it.
    assert.equal(storedFiles(t.hub), empty)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar.md5`, md5(r.jar))).status, 400)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar.sha1`, 'not a checksum')).status, 400)
    // A committed release with a bad checksum is rolled back, so the corrected deploy is not a re-deploy.
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.pom`, r.pom)).status, 201)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar`, r.jar)).status, 201)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar.sha256`, '0'.repeat(64))).status, 400)
    assert.is((await get(t, `${dir('3.0.0')}/${A}-3.0.0.pom`)).status, 404)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.pom`, r.pom)).status, 201)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar`, r.jar)).status, 201)
    assert.is((await put(t, `${dir('3.0.0')}/${A}-3.0.0.jar.sha512`, (await get(t, `${dir('3.0.0')}/${A}-3.0.0.jar.sha512`)).text())).status, 201)
  })

  Deploy('a POM whose coordinates disagree with its path, or that is malformed, is refused and nothing is stored', async (t) => {
    const empty = storedFiles(t.hub)
    const cases: Array<[string, string, RegExp]> = [
      [`${dir('1.0')}/${A}-1.0.pom`, pom({ groupId: 'org.other', artifactId: A, version: '1.0' }), /groupId org\.other \(path: com\.acme\)/],
      [`${dir('1.0')}/${A}-1.0.pom`, pom({ groupId: 'com.acme', artifactId: A, version: '1.1' }), /version 1\.1 \(path: 1\.0\)/],
      [`${dir('1.0')}/${A}-1.0.pom`, pom({ groupId: 'com.acme', artifactId: 'other', version: '1.0' }), /artifactId other/],
      [`${dir('1.0')}/${A}-1.0.pom`, '<project><groupId>com.acme</groupId>', /well-formed/],
      [`${dir('1.0')}/${A}-1.0.pom`, '<?xml version="1.0"?><!DOCTYPE project [<!ENTITY x SYSTEM "file:///etc/passwd">]><project>&x;</project>', /DOCTYPE/],
    ]
    for (const [path, body, message] of cases) {
      const res = await put(t, path, body)
      assert.is(res.status, 400, path)
      assert.match(res.text(), message)
    }
    assert.equal(storedFiles(t.hub), empty)
    assert.is((await get(t, `${G}/${A}/maven-metadata.xml`)).status, 404)
  })

  Deploy('traversal, malformed coordinates and oversized uploads are refused before anything is stored', async (t) => {
    const empty = storedFiles(t.hub)
    for (const path of [
      'com/acme/../../../etc/x/1/x-1.jar', 'com/acme/%2e%2e/greeter/1.0/greeter-1.0.jar', 'com%2facme/greeter/1.0/greeter-1.0.jar',
      'com/acme/greeter/1.0/other-1.0.jar', 'com/acme/greeter/1.0/greeter-1.0', 'greeter/1.0/greeter-1.0.jar',
      `${dir('1.0-SNAPSHOT')}/${A}-1.0-SNAPSHOT.jar`,
    ]) {
      const res = await rawRequest(t.hub.url, 'PUT', `/proxy/internal/maven2/${path}`, { headers: basic(WRITER), body: 'bytes' })
      assert.is(res.status, 400, path)
      assert.is(res.body, `${res.statusText}\n`)
    }
    const big = Buffer.alloc(MAX_ARTIFACT + 1, 1)
    const tooBig = await put(t, `${dir('1.0')}/${A}-1.0.jar`, big)
    assert.is(tooBig.status, 413)
    const bigPom = pom({ groupId: 'com.acme', artifactId: A, version: '1.0', description: 'x'.repeat(70 * 1024) })
    assert.is((await put(t, `${dir('1.0')}/${A}-1.0.pom`, bigPom)).status, 413)
    assert.equal(storedFiles(t.hub), empty)
    // No permission, anonymous, or a proxy registry: refused as well.
    assert.is((await put(t, `${dir('1.0')}/${A}-1.0.jar`, 'x', READER)).status, 403)
    assert.is((await t.hub.request('PUT', `/proxy/internal/maven2/${dir('1.0')}/${A}-1.0.jar`, { body: 'x' })).status, 401)
    assert.is((await t.hub.request('PUT', `/proxy/central/maven2/${dir('1.0')}/${A}-1.0.jar`, { headers: basic(WRITER), body: 'x' })).status, 403)
    assert.equal(storedFiles(t.hub), empty)
  })

  Deploy('SNAPSHOTs take new timestamped builds; version metadata names the newest', async (t) => {
    const v = '1.0-SNAPSHOT'
    const builds = [['20260101.120000', 1], ['20260102.080000', 2]] as const
    for (const [ts, n] of builds) {
      const fv = `1.0-${ts}-${n}`
      assert.is((await put(t, `${dir(v)}/${A}-${fv}.pom`, pom({ groupId: 'com.acme', artifactId: A, version: v }))).status, 201)
      assert.is((await put(t, `${dir(v)}/${A}-${fv}.jar`, jar('com.acme', A, fv))).status, 201)
      if (n === 1) assert.is((await put(t, `${dir(v)}/${A}-${fv}-sources.jar`, jar('com.acme', A, fv))).status, 201)
      assert.is((await put(t, `${dir(v)}/maven-metadata.xml`, `<metadata><groupId>com.acme</groupId><artifactId>${A}</artifactId><version>${v}</version></metadata>`)).status, 201)
    }
    const snap = parseSnapshotMetadata((await get(t, `${dir(v)}/maven-metadata.xml`)).body)
    assert.equal(snap.snapshot, { timestamp: '20260102.080000', buildNumber: 2 })
    assert.equal(snap.snapshotVersions.map((s) => `${s.classifier ?? ''}:${s.extension}=${s.value}`), [
      ':jar=1.0-20260102.080000-2', ':pom=1.0-20260102.080000-2', 'sources:jar=1.0-20260101.120000-1',
    ])
    const sum = await get(t, `${dir(v)}/maven-metadata.xml.sha1`)
    assert.is(sum.text(), sha1((await get(t, `${dir(v)}/maven-metadata.xml`)).body))
    assert.equal(parseArtifactMetadata((await get(t, `${G}/${A}/maven-metadata.xml`)).body).versions, [v])
    // A build file sent twice is a conflict; a wrong-path snapshot metadata upload is refused.
    assert.is((await put(t, `${dir(v)}/${A}-1.0-20260102.080000-2.jar`, 'again')).status, 409)
    assert.is((await put(t, `${dir(v)}/maven-metadata.xml`, `<metadata><groupId>com.acme</groupId><artifactId>${A}</artifactId><version>2.0-SNAPSHOT</version></metadata>`)).status, 400)
  })

  Deploy('staged files belong to their uploader and expire', async (t) => {
    const r = release('4.0.0')
    // Someone else stages a JAR for a version the owner is about to deploy…
    assert.is((await put(t, `${dir('4.0.0')}/${A}-4.0.0.jar`, jar('com.acme', A, 'evil'), OTHER)).status, 201)
    const evil = createHash('sha256').update(jar('com.acme', A, 'evil')).digest('hex')
    assert.ok(storedFiles(t.hub).some((f) => f.includes(evil)))
    // …it does not join the owner's POM; the owner's own JAR does.
    assert.is((await put(t, `${dir('4.0.0')}/${A}-4.0.0-sources.jar`, r.sources)).status, 201)
    assert.is((await put(t, `${dir('4.0.0')}/${A}-4.0.0.pom`, r.pom)).status, 201)
    assert.is((await get(t, `${dir('4.0.0')}/${A}-4.0.0.jar`)).status, 404)
    assert.equal((await get(t, `${dir('4.0.0')}/${A}-4.0.0-sources.jar`)).body, r.sources)
    // Once the package exists, a non-owner cannot even stage files for it.
    assert.is((await put(t, `${dir('5.0.0')}/${A}-5.0.0.jar`, r.jar, OTHER)).status, 403)
    // Stale staged files are swept on a later upload.
    t.hub.clock.advance(700_000)
    assert.is((await put(t, `${dir('6.0.0')}/${A}-6.0.0.jar`, r.jar)).status, 201)
    const evilBlob = createHash('sha256').update(jar('com.acme', A, 'evil')).digest('hex')
    assert.not.ok(storedFiles(t.hub).some((f) => f.includes(evilBlob)), 'the expired staged file was swept')
    assert.is((await put(t, `${dir('4.0.0')}/${A}-4.0.0.jar.sha1`, sha1(jar('com.acme', A, 'evil')), OTHER)).status, 400)
  })

  Deploy.run()
}
