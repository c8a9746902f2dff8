import Type, { type Static } from 'typebox'

/**
 * One static token: a `[[auth.tokens]]` table.
 *
 * @remarks
 * Keys are snake_case like the rest of config.toml (seed "Static tokens").
 */
export const TokenEntry = Type.Object(
  {
    /** The token itself, or an Argon2id PHC hash of it (`batlehub hash-token`). */
    value: Type.String({ minLength: 1, secret: true }),
    role: Type.Union([Type.Literal('anonymous'), Type.Literal('user'), Type.Literal('admin')], { default: 'user' }),
    /** Defaults to `token-<i>`, `i` being the entry's position in `tokens` (from 0). */
    user_id: Type.Optional(Type.String({ minLength: 1 })),
    /** Group ids matched by `[registries.rbac]` group grants. */
    groups: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** A label shown as the identity's display name (admin UI, audit log). */
    name: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
)
export type TokenEntry = Static<typeof TokenEntry>

/** The `[[auth]]` table of `type = "token"`, without `type`. */
export const TokenAuthConfig = Type.Object(
  {
    tokens: Type.Array(TokenEntry, { default: [] }),
  },
  { additionalProperties: false },
)
export type TokenAuthConfig = Static<typeof TokenAuthConfig>
