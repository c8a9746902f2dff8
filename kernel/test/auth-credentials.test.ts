import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { extractCredential, isCredentialError, MAX_CREDENTIAL_HEADER_BYTES } from '../src/auth/credentials.ts'

const basic = (userPass: string): string => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`
const auth = (value: string | string[]) => extractCredential({ authorization: value })
const errorOf = (value: ReturnType<typeof extractCredential>): string => {
  assert.ok(value !== null && isCredentialError(value), `expected an error, got ${JSON.stringify(value)}`)
  return value.error
}

const Forms = suite('extractCredential: client forms')

Forms('no credential headers at all → null', () => {
  assert.is(extractCredential({}), null)
  assert.is(extractCredential({ accept: 'application/json', 'user-agent': 'npm/10' }), null)
  assert.is(extractCredential({ authorization: undefined }), null)
  assert.is(extractCredential({ authorization: [] }), null)
})

Forms('Bearer (npm, curl)', () => {
  assert.equal(auth('Bearer npm_abc123'), { scheme: 'bearer', token: 'npm_abc123' })
})

Forms('the scheme is case-insensitive', () => {
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    assert.equal(auth(`${scheme} t0k`), { scheme: 'bearer', token: 't0k' }, scheme)
  }
  for (const scheme of ['basic', 'BASIC', 'bAsIc']) {
    assert.equal(auth(`${scheme} ${Buffer.from('u:p').toString('base64')}`), { scheme: 'basic', token: 'p', username: 'u', password: 'p' }, scheme)
  }
  for (const scheme of ['token', 'Token', 'TOKEN']) {
    assert.equal(auth(`${scheme} ghp_x`), { scheme: 'bearer', token: 'ghp_x' }, scheme)
  }
})

Forms('the token keeps its own case', () => {
  assert.equal(auth('Bearer AbC'), { scheme: 'bearer', token: 'AbC' })
})

Forms('extra spaces around the scheme and token are tolerated', () => {
  assert.equal(auth('  Bearer    abc  '), { scheme: 'bearer', token: 'abc' })
  assert.equal(auth('Bearer\tabc'), { scheme: 'bearer', token: 'abc' })
})

Forms('token <t> (GitHub style) reads as a bearer token', () => {
  assert.equal(auth('token ghp_16C7e42F292c6912E7710c838347Ae178B4a'), { scheme: 'bearer', token: 'ghp_16C7e42F292c6912E7710c838347Ae178B4a' })
})

Forms('raw token without a scheme (cargo)', () => {
  assert.equal(auth('cio1tkfBxzHnBbCdY2zTNQH4JYc7r2xQUxW'), { scheme: 'raw', token: 'cio1tkfBxzHnBbCdY2zTNQH4JYc7r2xQUxW' })
  assert.equal(auth('  cio1tk  '), { scheme: 'raw', token: 'cio1tk' })
})

Forms('Basic __token__:<t> (pip, twine): the password is the token', () => {
  assert.equal(auth(basic('__token__:pypi-AgEIcHlwaS5vcmc')), {
    scheme: 'basic', token: 'pypi-AgEIcHlwaS5vcmc', username: '__token__', password: 'pypi-AgEIcHlwaS5vcmc',
  })
})

Forms('Basic user:password (maven, composer): the password is the token', () => {
  assert.equal(auth(basic('deploy:s3cret')), { scheme: 'basic', token: 's3cret', username: 'deploy', password: 's3cret' })
})

Forms('Basic password may contain colons; the user name ends at the first one', () => {
  assert.equal(auth(basic('u:a:b:c')), { scheme: 'basic', token: 'a:b:c', username: 'u', password: 'a:b:c' })
})

Forms('Basic with an empty password uses the user name as the token (gem push, composer)', () => {
  assert.equal(auth(basic('rubygems_0123abcd:')), { scheme: 'basic', token: 'rubygems_0123abcd', username: 'rubygems_0123abcd', password: '' })
})

Forms('Basic with an empty user name and a password', () => {
  assert.equal(auth(basic(':only-pass')), { scheme: 'basic', token: 'only-pass', username: '', password: 'only-pass' })
})

Forms('Basic decodes UTF-8 and accepts base64 without padding', () => {
  assert.equal(auth(basic('jörg:pässwörd')), { scheme: 'basic', token: 'pässwörd', username: 'jörg', password: 'pässwörd' })
  const unpadded = Buffer.from('u:pw').toString('base64').replace(/=+$/, '')
  assert.equal(auth(`Basic ${unpadded}`), { scheme: 'basic', token: 'pw', username: 'u', password: 'pw' })
})

Forms('X-NuGet-ApiKey (NuGet push)', () => {
  assert.equal(extractCredential({ 'x-nuget-apikey': 'oy2abc' }), { scheme: 'api-key', token: 'oy2abc' })
})

Forms('header names are matched case-insensitively', () => {
  assert.equal(extractCredential({ Authorization: 'Bearer a' }), { scheme: 'bearer', token: 'a' })
  assert.equal(extractCredential({ AUTHORIZATION: 'Bearer a' }), { scheme: 'bearer', token: 'a' })
  assert.equal(extractCredential({ 'X-NuGet-ApiKey': 'k' }), { scheme: 'api-key', token: 'k' })
  assert.equal(extractCredential({ 'X-NUGET-APIKEY': 'k' }), { scheme: 'api-key', token: 'k' })
})

Forms('Authorization wins over X-NuGet-ApiKey', () => {
  assert.equal(extractCredential({ authorization: basic('az:real-pat'), 'x-nuget-apikey': 'AzureArtifacts' }), {
    scheme: 'basic', token: 'real-pat', username: 'az', password: 'real-pat',
  })
})

Forms('a one-element header array is read like a string', () => {
  assert.equal(auth(['Bearer a']), { scheme: 'bearer', token: 'a' })
})

Forms('a header exactly at the size limit is accepted', () => {
  const token = 'a'.repeat(MAX_CREDENTIAL_HEADER_BYTES - 'Bearer '.length)
  assert.equal(auth(`Bearer ${token}`), { scheme: 'bearer', token })
})

Forms.run()

const Malformed = suite('extractCredential: malformed headers')

Malformed('empty bearer token', () => {
  assert.match(errorOf(auth('Bearer ')), /empty bearer token/)
  assert.match(errorOf(auth('Bearer    ')), /empty bearer token/)
  // HTTP parsers strip trailing whitespace: `Bearer ` arrives as `Bearer`.
  assert.match(errorOf(auth('Bearer')), /empty bearer token/)
  assert.match(errorOf(auth('BEARER')), /empty bearer token/)
  assert.match(errorOf(auth('token ')), /^empty token$/)
  assert.match(errorOf(auth('Token')), /^empty token$/)
})

Malformed('a bearer token with inner whitespace', () => {
  assert.match(errorOf(auth('Bearer abc def')), /malformed bearer token/)
})

Malformed('empty Authorization header', () => {
  assert.match(errorOf(auth('')), /empty Authorization header/)
  assert.match(errorOf(auth('   ')), /empty Authorization header/)
})

Malformed('Basic that is not base64', () => {
  assert.match(errorOf(auth('Basic !!!not-base64!!!')), /not valid base64/)
  assert.match(errorOf(auth('Basic abcde')), /not valid base64/) // 5 characters: impossible length
  assert.match(errorOf(auth('Basic ab=c')), /not valid base64/) // padding in the middle
})

Malformed('Basic without a colon', () => {
  assert.match(errorOf(auth(`Basic ${Buffer.from('justatoken').toString('base64')}`)), /no colon/)
})

Malformed('Basic with neither user name nor password', () => {
  assert.match(errorOf(auth(basic(':'))), /empty Basic credentials/)
  assert.match(errorOf(auth('Basic ')), /empty Basic credentials/)
  assert.match(errorOf(auth('basic')), /empty Basic credentials/)
})

Malformed('Basic that decodes to invalid UTF-8', () => {
  assert.match(errorOf(auth(`Basic ${Buffer.from([0x75, 0x3a, 0xff, 0xfe]).toString('base64')}`)), /UTF-8/)
})

Malformed('an unknown scheme with a parameter', () => {
  assert.match(errorOf(auth('Digest username="x", realm="y"')), /unsupported Authorization scheme/)
  assert.match(errorOf(auth('Negotiate YIIabc')), /unsupported/)
})

Malformed('headers over 8 KiB', () => {
  assert.match(errorOf(auth(`Bearer ${'a'.repeat(MAX_CREDENTIAL_HEADER_BYTES)}`)), /longer than 8192/)
  assert.match(errorOf(auth('a'.repeat(MAX_CREDENTIAL_HEADER_BYTES + 1))), /longer than/)
  assert.match(errorOf(extractCredential({ 'x-nuget-apikey': 'k'.repeat(MAX_CREDENTIAL_HEADER_BYTES + 1) })), /x-nuget-apikey header longer/)
})

Malformed('two Authorization headers', () => {
  assert.match(errorOf(auth(['Bearer a', 'Bearer b'])), /more than one authorization header/)
})

Malformed('empty X-NuGet-ApiKey', () => {
  assert.match(errorOf(extractCredential({ 'x-nuget-apikey': '  ' })), /empty X-NuGet-ApiKey/)
})

Malformed('the error never echoes the secret', () => {
  for (const value of ['Bearer s3cr3t extra', 'Digest s3cr3t', `Basic s3cr3t!`]) {
    assert.not.match(errorOf(auth(value)), /s3cr3t/, value)
  }
})

Malformed.run()
