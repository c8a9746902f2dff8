import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  buildArtifactMetadata, buildSnapshotMetadata, formatLastUpdated, lastUpdatedToIso, mergeArtifactMetadata, parseArtifactMetadata,
  parseSnapshotMetadata, renderArtifactMetadata, renderSnapshotMetadata, validateUploadedMetadata,
} from '../src/metadata.ts'

const Meta = suite('maven-metadata.xml')

Meta('generates artifact metadata from local versions in Maven order', () => {
  const m = buildArtifactMetadata('com.example', 'lib', [
    { version: '1.10', publishedAt: '2026-01-03T00:00:00Z' },
    { version: '1.9', publishedAt: '2026-01-01T10:20:30Z' },
    { version: '2.0-SNAPSHOT', publishedAt: '2026-01-02T00:00:00Z' },
  ])
  assert.equal(m.versions, ['1.9', '1.10', '2.0-SNAPSHOT'])
  assert.is(m.latest, '2.0-SNAPSHOT')
  assert.is(m.release, '1.10')
  assert.is(m.lastUpdated, '20260103000000')
  const round = parseArtifactMetadata(renderArtifactMetadata(m))
  assert.equal(round, m)
})

Meta('merges local and upstream versions and recomputes latest, release and lastUpdated', () => {
  const local = buildArtifactMetadata('com.example', 'lib', [{ version: '3.0', publishedAt: '2025-06-01T00:00:00Z' }])
  const upstream = parseArtifactMetadata(`<?xml version="1.0"?>
<metadata><groupId>com.example</groupId><artifactId>lib</artifactId><versioning>
  <latest>2.5</latest><release>2.5</release>
  <versions><version>2.5</version><version>1.0</version><version>2.0.0-beta-1</version></versions>
  <lastUpdated>20260101000000</lastUpdated></versioning></metadata>`)
  const merged = mergeArtifactMetadata(local, upstream)
  assert.equal(merged.versions, ['1.0', '2.0.0-beta-1', '2.5', '3.0'])
  assert.is(merged.latest, '3.0')
  assert.is(merged.release, '3.0')
  assert.is(merged.lastUpdated, '20260101000000')
})

Meta('generates SNAPSHOT metadata naming the newest build per classifier and extension', () => {
  const m = buildSnapshotMetadata('com.example', 'app', '1.0-SNAPSHOT', [
    { extension: 'pom', timestamp: '20260101.120000', buildNumber: 1 },
    { extension: 'jar', timestamp: '20260101.120000', buildNumber: 1 },
    { extension: 'jar', classifier: 'sources', timestamp: '20260101.120000', buildNumber: 1 },
    { extension: 'pom', timestamp: '20260102.080000', buildNumber: 2 },
    { extension: 'jar', timestamp: '20260102.080000', buildNumber: 2 },
  ])
  assert.equal(m.snapshot, { timestamp: '20260102.080000', buildNumber: 2 })
  assert.is(m.lastUpdated, '20260102080000')
  assert.equal(m.snapshotVersions.map((s) => [s.classifier ?? '', s.extension, s.value]), [
    ['', 'jar', '1.0-20260102.080000-2'],
    ['', 'pom', '1.0-20260102.080000-2'],
    ['sources', 'jar', '1.0-20260101.120000-1'],
  ])
  const xml = renderSnapshotMetadata(m)
  assert.match(xml, /<metadata modelVersion="1.1.0">/)
  assert.equal(parseSnapshotMetadata(xml), m)
})

Meta('formats and reads lastUpdated', () => {
  assert.is(formatLastUpdated(Date.UTC(2026, 0, 2, 3, 4, 5)), '20260102030405')
  assert.is(lastUpdatedToIso('20260102030405'), '2026-01-02T03:04:05.000Z')
  assert.is(lastUpdatedToIso('2026'), undefined)
})

Meta('escapes coordinates and refuses hostile or foreign uploads', () => {
  assert.match(renderArtifactMetadata({ groupId: 'a&b', artifactId: '<x>', versions: ['1'] }), /<groupId>a&amp;b<\/groupId>\n  <artifactId>&lt;x&gt;<\/artifactId>/)
  const bomb = '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><metadata><groupId>&b;</groupId></metadata>'
  assert.throws(() => validateUploadedMetadata(Buffer.from(bomb), {}), /DOCTYPE/)
  assert.throws(() => validateUploadedMetadata(Buffer.from('<metadata><groupId>x'), {}), /well-formed/)
  assert.throws(() => validateUploadedMetadata(Buffer.from('<metadata><groupId>org.evil</groupId></metadata>'), { groupId: 'com.example' }), /groupId org.evil/)
  validateUploadedMetadata(Buffer.from('<metadata><groupId>com.example</groupId><artifactId>lib</artifactId></metadata>'), { groupId: 'com.example', artifactId: 'lib' })
})

Meta.run()
