/**
 * Reading a credential from request headers, in every form real package clients send one.
 *
 * @remarks
 * | Header | Sent by | Credential |
 * |---|---|---|
 * | `Authorization: Bearer <t>` | npm, curl, most HTTP tooling | `bearer` |
 * | `Authorization: token <t>` | GitHub-style tooling | `bearer` (same meaning, other spelling) |
 * | `Authorization: Basic base64(user:pass)` | pip/twine (`__token__`), maven, composer, gem | `basic`, token = password |
 * | `Authorization: <t>` (no scheme) | cargo | `raw` |
 * | `X-NuGet-ApiKey: <t>` | NuGet push/delete | `api-key` |
 *
 * Scheme names are case-insensitive (RFC 9110 §11.1). `Authorization` wins over `X-NuGet-ApiKey`
 * when both are sent: Azure-style NuGet set-ups send the real credential as Basic and a placeholder
 * API key.
 *
 * A header that is present but unusable is reported as `{ error }` rather than ignored, so the
 * client gets a 401 that says why instead of silently becoming anonymous.
 */
import type { Credential } from '@batlehub/sdk'

/** Header values longer than this are refused (no real token is anywhere near it). */
export const MAX_CREDENTIAL_HEADER_BYTES = 8 * 1024

/** A header that carried something we cannot use as a credential. */
export interface CredentialError {
  readonly error: string
}

type Headers = Readonly<Record<string, string | readonly string[] | undefined>>

const utf8 = new TextDecoder('utf-8', { fatal: true })
// RFC 4648 alphabet; padding optional because some clients strip it.
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
// Separates the scheme from its parameter; never part of a token (RFC 9110 §11.4, RFC 6750 b64token).
const WHITESPACE = /\s/

/**
 * Extracts the request's credential.
 *
 * @returns the credential; `null` when the request carries none; `{ error }` when a credential
 * header is malformed (the kernel answers 401 with that reason).
 */
export function extractCredential(headers: Record<string, string | string[] | undefined>): Credential | null | CredentialError {
  const authorization = header(headers, 'authorization')
  if (authorization !== undefined) {
    if (typeof authorization !== 'string') return authorization
    return parseAuthorization(authorization)
  }
  const apiKey = header(headers, 'x-nuget-apikey')
  if (apiKey !== undefined) {
    if (typeof apiKey !== 'string') return apiKey
    const token = apiKey.trim()
    if (token === '') return { error: 'empty X-NuGet-ApiKey header' }
    return { scheme: 'api-key', token }
  }
  return null
}

/** Whether {@link extractCredential} reported a malformed header. */
export function isCredentialError(value: Credential | CredentialError | null): value is CredentialError {
  return value !== null && 'error' in value
}

function header(headers: Headers, name: string): string | CredentialError | undefined {
  // Node lower-cases incoming names, but callers (tests, other adapters) may not.
  let value = headers[name]
  if (value === undefined) {
    for (const key of Object.keys(headers)) {
      if (key.length === name.length && key.toLowerCase() === name) {
        value = headers[key]
        break
      }
    }
  }
  if (value === undefined) return undefined
  if (typeof value !== 'string') {
    if (value.length === 0) return undefined
    if (value.length > 1) return { error: `more than one ${name} header` }
    value = value[0]!
  }
  if (value.length > MAX_CREDENTIAL_HEADER_BYTES) return { error: `${name} header longer than ${MAX_CREDENTIAL_HEADER_BYTES} bytes` }
  return value
}

function parseAuthorization(value: string): Credential | CredentialError {
  const trimmed = value.trim()
  if (trimmed === '') return { error: 'empty Authorization header' }
  const space = trimmed.search(WHITESPACE)
  if (space === -1) {
    // HTTP parsers strip trailing whitespace, so `Bearer ` (npm with an unset token variable)
    // arrives as a bare scheme name: that is an empty credential, not a token spelled "Bearer".
    const bare = trimmed.toLowerCase()
    if (bare === 'bearer' || bare === 'token') return { error: emptyTokenError(bare) }
    if (bare === 'basic') return { error: 'empty Basic credentials' }
    // cargo sends the token as the whole header value, with no scheme.
    return { scheme: 'raw', token: trimmed }
  }
  const scheme = trimmed.slice(0, space).toLowerCase()
  const rest = trimmed.slice(space + 1).trim()
  switch (scheme) {
    case 'bearer':
    case 'token':
      if (rest === '') return { error: emptyTokenError(scheme) }
      if (WHITESPACE.test(rest)) return { error: `malformed ${scheme === 'bearer' ? 'bearer ' : ''}token: it contains whitespace` }
      return { scheme: 'bearer', token: rest }
    case 'basic':
      return parseBasic(rest)
    default:
      return { error: 'unsupported Authorization scheme' }
  }
}

function emptyTokenError(scheme: string): string {
  return scheme === 'bearer' ? 'empty bearer token' : 'empty token'
}

function parseBasic(encoded: string): Credential | CredentialError {
  if (encoded === '') return { error: 'empty Basic credentials' }
  if (!BASE64.test(encoded) || encoded.length % 4 === 1) return { error: 'Basic credentials are not valid base64' }
  let decoded: string
  try {
    decoded = utf8.decode(Buffer.from(encoded, 'base64'))
  } catch {
    return { error: 'Basic credentials are not valid UTF-8' }
  }
  const colon = decoded.indexOf(':')
  if (colon === -1) return { error: 'Basic credentials have no colon' }
  const username = decoded.slice(0, colon)
  const password = decoded.slice(colon + 1)
  if (password !== '') return { scheme: 'basic', token: password, username, password }
  // gem push and some composer set-ups send the API key as the user name with no password.
  if (username !== '') return { scheme: 'basic', token: username, username, password }
  return { error: 'empty Basic credentials' }
}
