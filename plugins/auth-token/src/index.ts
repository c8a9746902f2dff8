/**
 * `@batlehub/auth-token`: the `token` auth provider. Static tokens from config.toml, each either the
 * token itself or an Argon2id PHC hash of it.
 */
import { defineAuthPlugin } from '@batlehub/sdk'
import { TokenAuthConfig } from './config.ts'
import { setupTokenAuth } from './setup.ts'

/** The `token` auth provider (`[[auth]] type = "token"`). */
export const tokenAuth = defineAuthPlugin({
  id: 'token',
  config: TokenAuthConfig,
  capabilities: { tokens: true, password: false },
  setup: (ctx) => setupTokenAuth(ctx),
})

export default tokenAuth
