import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Identity, Permission, Role } from '@batlehub/sdk'
import { compileGroupPattern, RegistryRbac } from '../src/auth/rbac.ts'

const who = (role: Role, groups: string[] = []): Identity =>
  Object.freeze({ subject: `test:${role}`, userId: role, role, groups: Object.freeze(groups), provider: 'test' })

const sorted = (set: ReadonlySet<Permission>): Permission[] => [...set].sort()

// ---------------------------------------------------------------------------------------------
const Matrix = suite('RegistryRbac: role × permission × group matrix')

const table = {
  anonymous: ['releases:read'],
  user: ['source:read'],
  admin: ['*'],
  'github-actions/myorg-*': ['releases:write'],
  'oidc:*': ['source:read'],
  'team.a': ['releases:write'],
}
const rbac = new RegistryRbac(table)

// Columns: releases:read, source:read, releases:write, '*'
type Row = readonly [label: string, identity: Identity, rr: boolean, sr: boolean, rw: boolean, all: boolean]
const rows: Row[] = [
  ['anonymous', who('anonymous'), true, false, false, false],
  ['user', who('user'), true, true, false, false],
  ['admin', who('admin'), true, true, true, true],
  ['anonymous + oidc:ops', who('anonymous', ['oidc:ops']), true, true, false, false],
  ['anonymous + oidc: (empty rest)', who('anonymous', ['oidc:']), true, true, false, false],
  ['anonymous + OIDC:ops (case)', who('anonymous', ['OIDC:ops']), true, false, false, false],
  ['user + github-actions/myorg-api', who('user', ['github-actions/myorg-api']), true, true, true, false],
  ['user + github-actions/myorg- (empty glob)', who('user', ['github-actions/myorg-']), true, true, true, false],
  ['user + glob spans / and :', who('user', ['github-actions/myorg-api/ref:refs/heads/main']), true, true, true, false],
  ['user + github-actions/otherorg-api', who('user', ['github-actions/otherorg-api']), true, true, false, false],
  ['user + prefix before pattern (anchored start)', who('user', ['x/github-actions/myorg-api']), true, true, false, false],
  ['user + github-actions/myorg (missing dash)', who('user', ['github-actions/myorg']), true, true, false, false],
  ['anonymous + team.a', who('anonymous', ['team.a']), true, false, true, false],
  ['anonymous + teamXa (dot is literal)', who('anonymous', ['teamXa']), true, false, false, false],
  ['anonymous + team.ab (anchored end)', who('anonymous', ['team.ab']), true, false, false, false],
  ['anonymous + several groups add up', who('anonymous', ['oidc:dev', 'team.a', 'unrelated']), true, true, true, false],
  ['user + a group named like a role', who('user', ['admin']), true, true, false, false],
  ['admin + groups (already everything)', who('admin', ['team.a']), true, true, true, true],
]

for (const [label, identity, rr, sr, rw, all] of rows) {
  Matrix(label, () => {
    assert.is(rbac.can(identity, 'releases:read'), rr, 'releases:read')
    assert.is(rbac.can(identity, 'source:read'), sr, 'source:read')
    assert.is(rbac.can(identity, 'releases:write'), rw, 'releases:write')
    assert.is(rbac.can(identity, '*'), all, '*')
  })
}

Matrix('effective permission sets', () => {
  assert.equal(sorted(rbac.permissions(who('anonymous'))), ['releases:read'])
  assert.equal(sorted(rbac.permissions(who('user'))), ['releases:read', 'source:read'])
  assert.equal(sorted(rbac.permissions(who('admin'))), ['*', 'releases:read', 'source:read'])
  assert.equal(sorted(rbac.permissions(who('user', ['github-actions/myorg-x']))), ['releases:read', 'releases:write', 'source:read'])
})

Matrix.run()

// ---------------------------------------------------------------------------------------------
const Inheritance = suite('RegistryRbac: role inheritance')

Inheritance('each role has its own permissions plus every weaker role\'s', () => {
  const r = new RegistryRbac({ anonymous: ['releases:read'], user: ['source:read'], admin: ['releases:write'] })
  assert.equal(sorted(r.permissions(who('anonymous'))), ['releases:read'])
  assert.equal(sorted(r.permissions(who('user'))), ['releases:read', 'source:read'])
  assert.equal(sorted(r.permissions(who('admin'))), ['releases:read', 'releases:write', 'source:read'])
  assert.not.ok(r.can(who('admin'), '*'))
})

Inheritance('a weaker role never gets a stronger role\'s permissions', () => {
  const r = new RegistryRbac({ admin: ['*'] })
  for (const p of ['releases:read', 'source:read', 'releases:write', '*'] as const) {
    assert.not.ok(r.can(who('anonymous'), p), `anonymous ${p}`)
    assert.not.ok(r.can(who('user'), p), `user ${p}`)
    assert.ok(r.can(who('admin'), p), `admin ${p}`)
  }
})

Inheritance('* on a weak role reaches every stronger role', () => {
  const r = new RegistryRbac({ user: ['*'] })
  assert.not.ok(r.can(who('anonymous'), 'releases:read'))
  assert.ok(r.can(who('user'), 'releases:write'))
  assert.ok(r.can(who('admin'), '*'))
})

Inheritance('an empty table grants nothing', () => {
  const r = new RegistryRbac({})
  for (const role of ['anonymous', 'user', 'admin'] as const) {
    assert.is(r.permissions(who(role)).size, 0, role)
    assert.not.ok(r.canExplore(who(role)), role)
  }
})

Inheritance('a group grant of * grants everything', () => {
  const r = new RegistryRbac({ 'ops-*': ['*'] })
  assert.ok(r.can(who('anonymous', ['ops-oncall']), 'releases:write'))
  assert.ok(r.can(who('anonymous', ['ops-oncall']), '*'))
  assert.not.ok(r.can(who('anonymous', ['dev']), 'releases:read'))
})

Inheritance('an identity with an unknown role gets nothing', () => {
  const r = new RegistryRbac({ anonymous: ['releases:read'] })
  const odd = { ...who('anonymous'), role: 'root' as Role }
  assert.is(r.permissions(odd).size, 0)
  assert.not.ok(r.canExplore(odd))
})

Inheritance.run()

// ---------------------------------------------------------------------------------------------
const Globs = suite('compileGroupPattern')

Globs('* matches any run of characters, / and : included', () => {
  const re = compileGroupPattern('github-actions/myorg-*')
  assert.ok(re.test('github-actions/myorg-api'))
  assert.ok(re.test('github-actions/myorg-'))
  assert.ok(re.test('github-actions/myorg-a/b:c'))
  assert.not.ok(re.test('github-actions/myorg'))
  assert.not.ok(re.test('Github-actions/myorg-api'))
})

Globs('several * and a lone *', () => {
  assert.ok(compileGroupPattern('*:team-*').test('oidc:team-a'))
  assert.ok(compileGroupPattern('*:team-*').test(':team-'))
  assert.not.ok(compileGroupPattern('*:team-*').test('oidc:group-a'))
  assert.ok(compileGroupPattern('*').test(''))
  assert.ok(compileGroupPattern('*').test('anything/at:all'))
})

Globs('regex metacharacters are literal', () => {
  const cases: [pattern: string, yes: string, no: string][] = [
    ['a.b', 'a.b', 'axb'],
    ['a+b', 'a+b', 'aab'],
    ['a?b', 'a?b', 'b'],
    ['(x|y)', '(x|y)', 'x'],
    ['[ab]', '[ab]', 'a'],
    ['^x$', '^x$', 'x'],
    ['a{2}', 'a{2}', 'aa'],
    ['back\\slash', 'back\\slash', 'backslash'],
    ['a.*', 'a.zzz', 'abzzz'],
  ]
  for (const [pattern, yes, no] of cases) {
    const re = compileGroupPattern(pattern)
    assert.ok(re.test(yes), `${pattern} should match ${yes}`)
    assert.not.ok(re.test(no), `${pattern} should not match ${no}`)
  }
})

Globs('a pattern matches the whole group, not a part of it', () => {
  const re = compileGroupPattern('oidc:dev')
  assert.ok(re.test('oidc:dev'))
  assert.not.ok(re.test('oidc:devops'))
  assert.not.ok(re.test('xoidc:dev'))
  assert.not.ok(re.test('oidc:dev\n'))
})

Globs.run()

// ---------------------------------------------------------------------------------------------
const Explore = suite('RegistryRbac: explore flags')

Explore('flags default to true: explore = proxy access', () => {
  const r = new RegistryRbac({ user: ['releases:read'] })
  assert.not.ok(r.canExplore(who('anonymous')))
  assert.ok(r.canExplore(who('user')))
  assert.ok(r.canExplore(who('admin')))
})

Explore('the seed example: only admins browse', () => {
  const r = new RegistryRbac({
    user: ['releases:read'],
    admin: ['releases:read'],
    explore: { anonymous: false, user: false, admin: true },
  })
  assert.not.ok(r.canExplore(who('anonymous')))
  assert.not.ok(r.canExplore(who('user')))
  assert.ok(r.can(who('user'), 'releases:read'), 'proxy access stays')
  assert.ok(r.canExplore(who('admin')))
})

Explore('a true flag never goes beyond proxy access', () => {
  const r = new RegistryRbac({ admin: ['*'], user: ['source:read'], explore: { anonymous: true, user: true, admin: true } })
  assert.not.ok(r.canExplore(who('anonymous')))
  assert.not.ok(r.canExplore(who('user')), 'source:read alone is not proxy access')
  assert.ok(r.canExplore(who('admin')), '* includes releases:read')
})

Explore('group members inherit their role\'s flag', () => {
  const r = new RegistryRbac({ 'oidc:readers': ['releases:read'], explore: { anonymous: false } })
  assert.not.ok(r.canExplore(who('anonymous', ['oidc:readers'])), 'anonymous flag is false')
  assert.ok(r.can(who('anonymous', ['oidc:readers']), 'releases:read'))
  assert.ok(r.canExplore(who('user', ['oidc:readers'])), 'user flag defaults to true')
  assert.not.ok(r.canExplore(who('user', ['oidc:writers'])), 'no proxy access')
})

Explore('explore is not a group pattern', () => {
  const r = new RegistryRbac({ explore: { user: true } })
  assert.not.ok(r.can(who('user', ['explore']), 'releases:read'))
})

Explore.run()

// ---------------------------------------------------------------------------------------------
const Table = suite('RegistryRbac: table checks and caching')

Table('an unknown permission is refused, naming the key', () => {
  assert.throws(() => new RegistryRbac({ user: ['read'] }), /rbac\.user: unknown permission "read"/)
  assert.throws(() => new RegistryRbac({ 'oidc:*': ['write'] }), /rbac\."oidc:\*": unknown permission "write"/)
})

Table('malformed explore tables are refused', () => {
  assert.throws(() => new RegistryRbac({ explore: ['user'] } as never), /rbac\.explore: expected a table/)
  assert.throws(() => new RegistryRbac({ explore: { user: 'no' } } as never), /rbac\.explore\.user: expected a boolean/)
  assert.throws(() => new RegistryRbac({ explore: { owner: true } } as never), /rbac\.explore\.owner: unknown role/)
})

Table('accepts the registry info shape the SDK hands out', () => {
  const info: Readonly<Record<string, readonly Permission[]>> = { anonymous: ['releases:read'] }
  assert.ok(new RegistryRbac(info).can(who('anonymous'), 'releases:read'))
})

Table('identities without groups share one set per role', () => {
  const r = new RegistryRbac(table)
  assert.is(r.permissions(who('user')), r.permissions(who('user')))
})

Table('an identity with groups is matched once and answered from the cache after', () => {
  const r = new RegistryRbac(table)
  const id = who('user', ['github-actions/myorg-api'])
  const first = r.permissions(id)
  assert.is(r.permissions(id), first)
  // A different identity object with the same groups gets an equal, separately computed set.
  assert.equal(sorted(r.permissions(who('user', ['github-actions/myorg-api']))), sorted(first))
})

Table('a group that adds nothing returns the role set itself', () => {
  const r = new RegistryRbac(table)
  assert.is(r.permissions(who('user', ['oidc:x'])), r.permissions(who('user')))
})

Table('permission sets cannot be changed by callers', () => {
  const r = new RegistryRbac(table)
  const set = r.permissions(who('anonymous')) as Set<Permission>
  assert.throws(() => set.add('*'))
  assert.throws(() => set.clear())
  assert.not.ok(r.can(who('anonymous'), 'releases:write'))
})

Table.run()
