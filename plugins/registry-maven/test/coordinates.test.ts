import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseRepositoryPath, splitPackageName } from '../src/coordinates.ts'

const Paths = suite('maven2 layout paths')

Paths('parses artifacts with classifiers, compound extensions and checksums', () => {
  const jar = parseRepositoryPath('/com/example/lib-a/1.0.0/lib-a-1.0.0.jar')
  assert.equal(jar, { kind: 'artifact', groupId: 'com.example', artifactId: 'lib-a', version: '1.0.0', fileVersion: '1.0.0', extension: 'jar', filename: 'lib-a-1.0.0.jar', path: 'com/example/lib-a/1.0.0/lib-a-1.0.0.jar' })
  const sources = parseRepositoryPath('com/example/lib-a/1.0.0/lib-a-1.0.0-sources.jar.sha1')
  assert.is(sources.kind, 'artifact')
  if (sources.kind !== 'artifact') return
  assert.is(sources.classifier, 'sources')
  assert.is(sources.checksum, 'sha1')
  assert.is(sources.filename, 'lib-a-1.0.0-sources.jar')
  const tgz = parseRepositoryPath('org/x/dist/2.1/dist-2.1-bin.tar.gz')
  assert.equal(tgz.kind === 'artifact' && [tgz.classifier, tgz.extension], ['bin', 'tar.gz'])
  const asc = parseRepositoryPath('org/x/dist/2.1/dist-2.1.jar.asc.sha512')
  assert.equal(asc.kind === 'artifact' && [asc.extension, asc.checksum], ['jar.asc', 'sha512'])
})

Paths('parses timestamped SNAPSHOT builds', () => {
  const p = parseRepositoryPath('com/example/app/1.0-SNAPSHOT/app-1.0-20260101.120000-12-tests.jar')
  assert.is(p.kind, 'artifact')
  if (p.kind !== 'artifact') return
  assert.is(p.version, '1.0-SNAPSHOT')
  assert.is(p.fileVersion, '1.0-20260101.120000-12')
  assert.equal(p.build, { timestamp: '20260101.120000', buildNumber: 12 })
  assert.is(p.classifier, 'tests')
  const literal = parseRepositoryPath('com/example/app/1.0-SNAPSHOT/app-1.0-SNAPSHOT.pom')
  assert.equal(literal.kind === 'artifact' && [literal.fileVersion, literal.build], ['1.0-SNAPSHOT', undefined])
})

Paths('reads maven-metadata.xml at every level', () => {
  const artifact = parseRepositoryPath('com/example/lib-a/maven-metadata.xml')
  assert.equal(artifact, { kind: 'metadata', dir: ['com', 'example', 'lib-a'], path: 'com/example/lib-a/maven-metadata.xml', artifact: { groupId: 'com.example', artifactId: 'lib-a' } })
  const snap = parseRepositoryPath('com/example/app/1.0-SNAPSHOT/maven-metadata.xml.md5')
  assert.equal(snap.kind === 'metadata' && [snap.snapshot, snap.checksum], [{ groupId: 'com.example', artifactId: 'app', version: '1.0-SNAPSHOT' }, 'md5'])
  const group = parseRepositoryPath('org/apache/maven/plugins/maven-metadata.xml')
  assert.is(group.kind, 'metadata')
})

Paths('refuses traversal, encoded separators, backslashes and malformed coordinates', () => {
  const bad = [
    'com/../../etc/passwd/x-1.jar',
    'com/example/%2e%2e/1.0/x-1.0.jar',
    'com/example%2flib/lib/1.0/lib-1.0.jar',
    'com%5cexample/lib/1.0/lib-1.0.jar',
    'com\\example/lib/1.0/lib-1.0.jar',
    'com//example/lib/1.0/lib-1.0.jar',
    'com/example/lib/1.0/other-1.0.jar',
    'com/example/lib/1.0/lib-2.0.jar',
    'com/example/lib/1.0/lib-1.0',
    'com/example/lib/1.0/lib-1.0-.jar',
    'com/example/lib/1.0/lib-1.0..jar',
    'lib/1.0/lib-1.0.jar',
    'com/exa mple/lib/1.0/lib-1.0.jar',
    'com/example/lib/1.0/lib-1.0.jar%00',
    'com/example/lib/1.0/%ZZ.jar',
    '.hidden/lib/1.0/lib-1.0.jar',
    'maven-metadata.xml',
  ]
  for (const path of bad) {
    assert.throws(() => parseRepositoryPath(path), (err: any) => err.code === 'BH_INPUT', path)
  }
})

Paths('splits package names', () => {
  assert.equal(splitPackageName('com.example:lib-a'), { groupId: 'com.example', artifactId: 'lib-a' })
  assert.is(splitPackageName('com.example'), null)
  assert.is(splitPackageName('com..x:a'), null)
  assert.is(splitPackageName('a:b:c'), null)
})

Paths.run()
