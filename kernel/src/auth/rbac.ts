/**
 * Per-registry role-based access control (seed "Permissions"; package-explorer "Access control").
 *
 * @remarks
 * A registry's `[registries.rbac]` table maps role names and group patterns to permissions:
 *
 * ```toml
 * [registries.rbac]
 * anonymous = ["releases:read"]
 * user = ["source:read"]
 * admin = ["*"]
 * "github-actions/myorg-*" = ["releases:write"]
 * [registries.rbac.explore]
 * user = false
 * ```
 *
 * - Roles are ordered `anonymous` ⊂ `user` ⊂ `admin`: a role gets its own permissions plus those of
 *   every weaker role.
 * - Every other key (except `explore`) is a group pattern. Its permissions are added to those of the
 *   caller's role when any of the caller's groups matches it. `*` matches any run of characters
 *   (including `/` and `:`); everything else is literal, case-sensitive, and the whole group must match.
 * - `*` as a permission grants every permission.
 * - Explore access (browsing the registry in the Package Explorer) = proxy access (`releases:read`)
 *   AND the `explore` flag of the caller's role (default true). Groups have no flags of their own.
 *
 * Everything is compiled once per registry in the constructor; the checks run on every request.
 */
import { PERMISSIONS, ROLES, type Identity, type Permission, type Role } from '@batlehub/sdk'

/** Role names and group patterns mapped to permissions, as validated config gives them. */
export interface RbacTable {
  readonly [roleOrGroup: string]: readonly string[]
}

/** `[registries.rbac.explore]`: whether each role may browse the registry in the Explorer. */
export interface ExploreFlags {
  readonly anonymous?: boolean
  readonly user?: boolean
  readonly admin?: boolean
}

/**
 * What {@link RegistryRbac} is built from: an {@link RbacTable} plus the optional `explore` table.
 *
 * @remarks
 * `RbacTable & { explore?: ExploreFlags }` cannot be written as a literal (TypeScript checks
 * `explore` against the index signature), so the index signature here admits both shapes; the
 * constructor checks each value at run time.
 */
export interface RbacInput {
  readonly explore?: ExploreFlags
  readonly [roleOrGroup: string]: readonly string[] | ExploreFlags | undefined
}

interface GroupGrant {
  readonly pattern: string
  readonly regex: RegExp
  readonly permissions: readonly Permission[]
}

const KNOWN_PERMISSIONS: ReadonlySet<string> = new Set(PERMISSIONS)
const ROLE_NAMES: ReadonlySet<string> = new Set(ROLES)
const EXPLORE_KEY = 'explore'

/**
 * Compiles a group pattern to an anchored RegExp: `*` → any characters (`/`, `:` and line breaks
 * included), every other character literal.
 */
export function compileGroupPattern(pattern: string): RegExp {
  const body = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s\\S]*')
  return new RegExp(`^${body}$`)
}

function readPermissions(key: string, value: unknown): Permission[] {
  if (!Array.isArray(value)) throw new TypeError(`rbac.${key}: expected an array of permissions`)
  for (const p of value) {
    if (typeof p !== 'string' || !KNOWN_PERMISSIONS.has(p)) {
      throw new TypeError(`rbac.${key}: unknown permission ${JSON.stringify(p)} (expected one of ${PERMISSIONS.join(', ')})`)
    }
  }
  return value as Permission[]
}

/**
 * The compiled RBAC of one registry instance.
 *
 * @remarks
 * Identities without groups are answered from a set precomputed per role. Identities with groups
 * are cached per identity object (a WeakMap), so a provider that hands out the same frozen identity
 * for the same credential (the token provider does) pays for the group matching once.
 * Identities are treated as immutable.
 */
export class RegistryRbac {
  readonly #byRole: ReadonlyMap<Role, ReadonlySet<Permission>>
  readonly #grants: readonly GroupGrant[]
  readonly #explore: Readonly<Record<Role, boolean>>
  #byIdentity = new WeakMap<Identity, ReadonlySet<Permission>>()

  constructor(rbac: RbacInput | RbacTable) {
    const table = rbac as Readonly<Record<string, unknown>>
    const byRole = new Map<Role, ReadonlySet<Permission>>()
    const acc = new Set<Permission>()
    for (const role of ROLES) {
      // ROLES is weakest first, so each role starts from everything the weaker ones have.
      const own = table[role]
      if (own !== undefined) for (const p of readPermissions(role, own)) acc.add(p)
      byRole.set(role, freezeSet(new Set(acc)))
    }
    this.#byRole = byRole

    const grants: GroupGrant[] = []
    for (const [key, value] of Object.entries(table)) {
      if (ROLE_NAMES.has(key) || key === EXPLORE_KEY || value === undefined) continue
      const permissions = readPermissions(JSON.stringify(key), value)
      if (permissions.length === 0) continue
      grants.push({ pattern: key, regex: compileGroupPattern(key), permissions: Object.freeze([...permissions]) })
    }
    this.#grants = Object.freeze(grants)

    const explore = table[EXPLORE_KEY]
    if (explore !== undefined && (typeof explore !== 'object' || explore === null || Array.isArray(explore))) {
      throw new TypeError('rbac.explore: expected a table of role = boolean')
    }
    const flags = (explore ?? {}) as Record<string, unknown>
    const flag = (role: Role): boolean => {
      const v = flags[role]
      if (v === undefined) return true
      if (typeof v !== 'boolean') throw new TypeError(`rbac.explore.${role}: expected a boolean`)
      return v
    }
    for (const key of Object.keys(flags)) {
      if (!ROLE_NAMES.has(key)) throw new TypeError(`rbac.explore.${key}: unknown role (expected ${ROLES.join(', ')})`)
    }
    this.#explore = Object.freeze({ anonymous: flag('anonymous'), user: flag('user'), admin: flag('admin') })
  }

  /** The caller's effective permissions on this registry (`*` stays `*`). */
  permissions(identity: Identity): ReadonlySet<Permission> {
    const base = this.#byRole.get(identity.role) ?? EMPTY
    if (this.#grants.length === 0 || identity.groups.length === 0 || base.has('*')) return base
    const cached = this.#byIdentity.get(identity)
    if (cached) return cached
    let result: Set<Permission> | undefined
    for (const grant of this.#grants) {
      if (!identity.groups.some((g) => grant.regex.test(g))) continue
      for (const p of grant.permissions) {
        if (base.has(p) || result?.has(p)) continue
        result ??= new Set(base)
        result.add(p)
      }
    }
    const effective = result ? freezeSet(result) : base
    this.#byIdentity.set(identity, effective)
    return effective
  }

  /** Whether the caller holds `permission` on this registry; `*` grants everything. */
  can(identity: Identity, permission: Permission): boolean {
    const set = this.permissions(identity)
    return set.has('*') || set.has(permission)
  }

  /** Whether the caller may browse this registry in the Explorer: proxy access and its role's flag. */
  canExplore(identity: Identity): boolean {
    return this.#explore[identity.role] === true && this.can(identity, 'releases:read')
  }
}

const EMPTY: ReadonlySet<Permission> = freezeSet(new Set())

/** A Set whose mutators throw, so a shared per-role set cannot be changed by a caller. */
function freezeSet<T>(set: Set<T>): ReadonlySet<T> {
  const deny = (): never => {
    throw new TypeError('RBAC permission sets are read-only')
  }
  Object.defineProperties(set, { add: { value: deny }, delete: { value: deny }, clear: { value: deny } })
  return Object.freeze(set)
}
