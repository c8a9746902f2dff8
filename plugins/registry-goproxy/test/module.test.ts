import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  checkModulePath, checkPathMajor, checkVersion, compareVersions, escapePath, goModModulePath, isPseudoVersion, latestOf, unescapePath,
} from '../src/module.ts'
import { parseGoPath } from '../src/paths.ts'

const Module = suite('goproxy module paths and versions')

const throwsInput = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: any) => e.code === 'BH_INPUT' && pattern.test(e.message))

Module('case escaping round-trips and refuses bare upper case', () => {
  assert.is(escapePath('github.com/Azure/azure-sdk-for-go'), 'github.com/!azure/azure-sdk-for-go')
  assert.is(unescapePath('github.com/!azure/azure-sdk-for-go'), 'github.com/Azure/azure-sdk-for-go')
  assert.is(unescapePath(escapePath('example.com/BigCo/X')), 'example.com/BigCo/X')
  throwsInput(() => unescapePath('github.com/Azure/x'), /upper-case letters must be escaped/)
  throwsInput(() => unescapePath('github.com/!/x'), /invalid escaped/)
  throwsInput(() => unescapePath('github.com/!A/x'), /invalid escaped/)
})

Module('module paths follow module.CheckPath', () => {
  for (const ok of ['example.com/m', 'golang.org/x/text', 'example.com/a-b/c_d/e~f/v2', 'gopkg.in/yaml.v3']) checkModulePath(ok)
  throwsInput(() => checkModulePath('example/m'), /missing dot/)
  throwsInput(() => checkModulePath('Example.com/m'), /lower-case domain/)
  throwsInput(() => checkModulePath('example.com/../etc'), /invalid path element/)
  throwsInput(() => checkModulePath('example.com//m'), /empty path element/)
  throwsInput(() => checkModulePath('/example.com/m'), /leading or trailing slash/)
  throwsInput(() => checkModulePath('example.com/m%2f'), /invalid char/)
  throwsInput(() => checkModulePath('example.com/.hidden'), /starts or ends with a dot/)
})

Module('versions are canonical semver with v, and the major suffix rule holds', () => {
  for (const ok of ['v1.0.0', 'v0.1.2-beta.1', 'v2.3.4+incompatible', 'v0.0.0-20191109021931-daa7c04131f5']) checkVersion(ok)
  for (const bad of ['1.0.0', 'v1.0', 'v01.0.0', 'v1.0.0+meta', 'latest', 'v1.0.0/../x']) throwsInput(() => checkVersion(bad), /invalid version/)
  checkPathMajor('example.com/m/v2', 'v2.1.0', true)
  checkPathMajor('example.com/m', 'v1.9.0', true)
  checkPathMajor('example.com/m', 'v3.0.0+incompatible', false)
  throwsInput(() => checkPathMajor('example.com/m/v2', 'v3.0.0', true), /does not match the major version suffix/)
  throwsInput(() => checkPathMajor('example.com/m', 'v2.0.0', true), /needs a \/v2 module path suffix/)
  throwsInput(() => checkPathMajor('example.com/m', 'v3.0.0+incompatible', true), /has a go.mod/)
})

Module('ordering and @latest pick releases over pre-releases and skip pseudo-versions', () => {
  assert.equal(['v1.10.0', 'v1.2.0', 'v1.2.0-rc.1', 'v1.9.0'].sort(compareVersions), ['v1.2.0-rc.1', 'v1.2.0', 'v1.9.0', 'v1.10.0'])
  assert.is(latestOf(['v1.0.0', 'v1.1.0', 'v1.2.0-beta.1']), 'v1.1.0')
  assert.is(latestOf(['v0.1.0-alpha', 'v0.2.0-beta']), 'v0.2.0-beta')
  assert.ok(isPseudoVersion('v0.0.0-20191109021931-daa7c04131f5'))
  assert.is(latestOf(['v0.0.0-20191109021931-daa7c04131f5']), undefined)
})

Module('go.mod module directives are read with comments and quotes', () => {
  assert.is(goModModulePath('// comment\nmodule example.com/m // trailing\n\ngo 1.21\n'), 'example.com/m')
  assert.is(goModModulePath('module "example.com/quoted"\n'), 'example.com/quoted')
  assert.is(goModModulePath('go 1.21\n'), undefined)
})

Module('proxy paths parse into kinds, modules and versions', () => {
  assert.equal(parseGoPath('/example.com/!big/m/@v/list'), { kind: 'list', module: 'example.com/Big/m' })
  assert.equal(parseGoPath('/example.com/m/@latest'), { kind: 'latest', module: 'example.com/m' })
  assert.equal(parseGoPath('/example.com/m/v2/@v/v2.0.1.zip'), { kind: 'zip', module: 'example.com/m/v2', version: 'v2.0.1' })
  assert.equal(parseGoPath('/example.com/m/@v/v1.0.0-beta.1.info'), { kind: 'info', module: 'example.com/m', version: 'v1.0.0-beta.1' })
  assert.is(parseGoPath('/sumdb/sum.golang.org/supported').kind, 'sumdb')
  throwsInput(() => parseGoPath('/example.com/../x/@v/list'), /invalid path element/)
  throwsInput(() => parseGoPath('/example.com/m/@v/1.0.0.zip'), /invalid version/)
  assert.throws(() => parseGoPath('/example.com/m/whatever'), (e: any) => e.code === 'BH_NOT_FOUND')
})

Module.run()
