import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isTagName, isVersionString, keyPath, newNameProblems, parseName, tarballFile, versionOfTarball } from '../src/names.ts'
import { packumentForm } from '../src/accept.ts'

const Names = suite('npm names')

Names('parses plain, scoped and legacy names', () => {
  assert.equal(parseName('left-pad'), { name: 'left-pad', bare: 'left-pad' })
  assert.equal(parseName('@babel/core'), { name: '@babel/core', scope: 'babel', bare: 'core' })
  // Legacy names with capitals are readable (they exist upstream).
  assert.equal(parseName('JSONStream')?.name, 'JSONStream')
})

Names('refuses names a registry cannot hold', () => {
  for (const bad of ['', ' x', '.hidden', '_private', '@scope', '@scope/', '@/x', 'a/b', '@a/b/c', '../etc', '@scope/..', 'node_modules', 'a%2fb', 'with space', '-', '@scope/.x', 'é']) {
    assert.is(parseName(bad), null, bad)
  }
})

Names('new names follow validate-npm-package-name', () => {
  assert.equal(newNameProblems('fine-name'), [])
  assert.equal(newNameProblems('@scope/fine.name_1'), [])
  assert.match(newNameProblems('Capital').join(), /capital letters/)
  assert.match(newNameProblems('x'.repeat(215)).join(), /214/)
  assert.match(newNameProblems('crazy!').join(), /special characters/)
  assert.match(newNameProblems('.dot').join(), /period/)
  assert.match(newNameProblems('_under').join(), /underscore/)
  assert.match(newNameProblems('http').join(), /core module/)
  assert.match(newNameProblems('@scope/_x').join(), /after the scope/)
  assert.match(newNameProblems('a b').join(), /URL-friendly/)
  assert.match(newNameProblems(42).join(), /string/)
})

Names('versions, tags and tarball names', () => {
  assert.ok(isVersionString('1.2.3-beta.1+build.5'))
  assert.not.ok(isVersionString('../1.0.0'))
  assert.not.ok(isVersionString('1.0.0/x'))
  assert.ok(isTagName('next'))
  assert.not.ok(isTagName('1.0'))
  assert.not.ok(isTagName('v2'))
  const scoped = parseName('@s/pkg')!
  assert.is(tarballFile(scoped, '1.0.0'), 'pkg-1.0.0.tgz')
  assert.is(versionOfTarball(scoped, 'pkg-1.0.0-rc.1.tgz'), '1.0.0-rc.1')
  assert.is(versionOfTarball(scoped, 'other-1.0.0.tgz'), null)
  assert.is(versionOfTarball(parseName('a')!, 'a-..%2f.tgz'), null)
  assert.is(keyPath(scoped), '@s/pkg')
  assert.is(keyPath(parseName("legacy(name)")!), 'legacy=28name=29')
})

Names('Accept negotiation picks the abbreviated form by q-value', () => {
  assert.is(packumentForm(undefined), 'full')
  assert.is(packumentForm('*/*'), 'full')
  assert.is(packumentForm('application/json'), 'full')
  assert.is(packumentForm('application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'), 'abbreviated')
  assert.is(packumentForm('application/vnd.npm.install-v1+json'), 'abbreviated')
  assert.is(packumentForm('application/vnd.npm.install-v1+json; q=0.5, application/json'), 'full')
  assert.is(packumentForm('application/vnd.npm.install-v1+json; q=0, */*'), 'full')
  assert.is(packumentForm('Application/Vnd.Npm.Install-V1+Json;q=0.9, application/json;q=0.9'), 'abbreviated')
})

Names.run()
