import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mainExtension, parsePom } from '../src/pom.ts'
import { pom } from './support/fixture.ts'

const Pom = suite('POM reading')

Pom('reads coordinates, packaging and dependencies', () => {
  const info = parsePom(pom({ groupId: 'com.example', artifactId: 'lib-a', version: '1.10', description: 'A  &amp; B', dependencies: [{ groupId: 'com.example', artifactId: 'lib-b', version: '1.0.0', scope: 'test' }] }))
  assert.is(info.groupId, 'com.example')
  assert.is(info.version, '1.10')
  assert.is(info.packaging, 'jar')
  assert.is(info.description, 'A & B')
  assert.equal(info.dependencies, [{ groupId: 'com.example', artifactId: 'lib-b', version: '1.0.0', scope: 'test' }])
})

Pom('inherits groupId and version from the parent and resolves its own properties', () => {
  const info = parsePom(`<project xmlns="http://maven.apache.org/POM/4.0.0">
    <parent><groupId>org.acme</groupId><artifactId>parent</artifactId><version>7</version></parent>
    <artifactId>child</artifactId><version>\${revision}\${changelist}</version><packaging>pom</packaging>
    <properties><revision>1.2.3</revision><changelist>-SNAPSHOT</changelist><dep.version>\${project.version}</dep.version></properties>
    <dependencies><dependency><groupId>\${project.groupId}</groupId><artifactId>x</artifactId><version>\${dep.version}</version></dependency></dependencies>
  </project>`)
  assert.equal([info.groupId, info.artifactId, info.version, info.packaging], ['org.acme', 'child', '1.2.3-SNAPSHOT', 'pom'])
  assert.equal(info.parent, { groupId: 'org.acme', artifactId: 'parent', version: '7' })
  assert.equal(info.dependencies[0], { groupId: 'org.acme', artifactId: 'x', version: '1.2.3-SNAPSHOT' })
  assert.is(mainExtension(info.packaging), null)
  assert.is(mainExtension('maven-plugin'), 'jar')
  assert.is(mainExtension('war'), 'war')
})

Pom('refuses POMs without coordinates, with unresolved ones, malformed or with a DTD', () => {
  assert.throws(() => parsePom('<project><artifactId>x</artifactId></project>'), /lacks groupId/)
  assert.throws(() => parsePom('<project><groupId>g</groupId><artifactId>x</artifactId><version>${nope}</version></project>'), /unresolved property/)
  assert.throws(() => parsePom('<project><groupId>g</groupId>'), /well-formed/)
  assert.throws(() => parsePom('<!DOCTYPE project SYSTEM "file:///etc/passwd"><project/>'), /DOCTYPE/)
  assert.throws(() => parsePom('<metadata/>'), /<project>/)
  assert.throws(() => parsePom('<project><groupId>g</groupId><artifactId>x</artifactId><version>${a}</version><properties><a>${b}</a><b>${a}</b></properties></project>'), /unresolved/)
})

Pom.run()
