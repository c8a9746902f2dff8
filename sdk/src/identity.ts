/**
 * Who is calling, and what they may do.
 *
 * @packageDocumentation
 */

/**
 * Roles, ordered: `anonymous` ⊂ `user` ⊂ `admin` (each inherits the permissions of the ones before).
 *
 * @public
 * @since 1.0.0
 */
export type Role = 'anonymous' | 'user' | 'admin'

/** All roles, weakest first. @public @since 1.0.0 */
export const ROLES: readonly Role[] = Object.freeze(['anonymous', 'user', 'admin'] as const)

/**
 * Per-registry permissions (seed "Permissions"). `*` grants everything.
 *
 * @remarks
 * `releases:read` lists versions and downloads release assets and metadata; `source:read` downloads
 * source archives (tarballs, `.crate`, module `.zip`); `releases:write` publishes, yanks and deletes.
 *
 * @public
 * @since 1.0.0
 */
export type Permission = 'releases:read' | 'source:read' | 'releases:write' | '*'

/** Every permission a registry route may require. @public @since 1.0.0 */
export const PERMISSIONS: readonly Permission[] = Object.freeze(['releases:read', 'source:read', 'releases:write', '*'] as const)

/**
 * The authenticated (or anonymous) caller of a request.
 *
 * @public
 * @since 1.0.0
 */
export interface Identity {
  /** Globally unique subject, prefixed by the provider id (`token:ci`, `oidc:alice`); `anonymous` for nobody. */
  readonly subject: string
  /** The user id as written in config or claims (`ci`, `alice`); `anonymous` for nobody. */
  readonly userId: string
  readonly role: Role
  /** Group ids from the provider (`oidc:frontend-team`). Group grants in RBAC are matched against these. */
  readonly groups: readonly string[]
  /** Id of the auth provider that recognised the credential; `anonymous` for nobody. */
  readonly provider: string
  readonly displayName?: string
}

/** The identity of a request that carried no credential. @public @since 1.0.0 */
export const ANONYMOUS: Identity = Object.freeze({
  subject: 'anonymous',
  userId: 'anonymous',
  role: 'anonymous' as const,
  groups: Object.freeze([]) as readonly string[],
  provider: 'anonymous',
})

/**
 * A credential as the kernel extracted it from a request.
 *
 * @remarks
 * Real clients send tokens in several ways; the kernel normalises them so that an auth provider
 * only checks `token` (and, for password providers, `username` + `password`):
 * - `bearer`: `Authorization: Bearer <t>` (npm, curl)
 * - `basic`: `Authorization: Basic base64(user:pass)` (pip/twine, maven, composer, gem); `token` is the password
 * - `raw`: `Authorization: <t>` with no scheme (cargo)
 * - `api-key`: `X-NuGet-ApiKey: <t>` (NuGet)
 *
 * @public
 * @since 1.0.0
 */
export interface Credential {
  readonly scheme: 'bearer' | 'basic' | 'raw' | 'api-key'
  /** The secret to check as a token. For `basic` it is the password. */
  readonly token: string
  /** Only for `basic`. */
  readonly username?: string
  /** Only for `basic` (same as `token`). */
  readonly password?: string
}
