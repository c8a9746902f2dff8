/**
 * The auth chain: providers in declared order, the first non-null identity wins, a thrown
 * AuthenticationError stops the chain; no credential means anonymous; a credential that no provider
 * recognises is refused (401). Run as a passport strategy; the kernel owns passport.
 */
import passport from 'passport'
import { Strategy } from 'passport-strategy'
import type { IncomingMessage } from 'node:http'
import type { Context } from 'koa'
import { ANONYMOUS, AuthenticationError, type Credential, type Identity } from '@batlehub/sdk'
import { extractCredential } from './credentials.ts'

export interface AuthProvider {
  readonly id: string
  authenticate(credential: Credential): Promise<Identity | null>
}

export class AuthChain {
  constructor(private readonly providers: readonly AuthProvider[]) {}

  get providerIds(): string[] {
    return this.providers.map((p) => p.id)
  }

  /** Resolves the identity of request headers. Throws AuthenticationError (401). */
  async identify(headers: IncomingMessage['headers']): Promise<Identity> {
    const credential = extractCredential(headers)
    if (credential === null) return ANONYMOUS
    if ('error' in credential) throw new AuthenticationError(`invalid credentials: ${credential.error}`)
    for (const provider of this.providers) {
      const identity = await provider.authenticate(credential)
      if (identity) return identity
    }
    throw new AuthenticationError('invalid credentials')
  }
}

/** Passport strategy that runs the chain. */
class ChainStrategy extends Strategy {
  name = 'batlehub-chain'
  constructor(private readonly chain: AuthChain) {
    super()
  }
  override authenticate(req: IncomingMessage): void {
    this.chain.identify(req.headers).then(
      (identity) => this.success(identity),
      (err) => this.error(err),
    )
  }
}

/** Koa-side adapter: one passport instance per kernel, no sessions. */
export class PassportAuthenticator {
  private readonly passport = new passport.Passport()

  constructor(chain: AuthChain) {
    this.passport.use('batlehub-chain', new ChainStrategy(chain))
  }

  identify(ctx: Context): Promise<Identity> {
    return new Promise<Identity>((resolve, reject) => {
      const handler = this.passport.authenticate('batlehub-chain', { session: false }, (err: unknown, user: Identity | false) => {
        if (err) reject(err)
        else if (!user) reject(new AuthenticationError('invalid credentials'))
        else resolve(user)
      })
      handler(ctx.req, ctx.res, (err?: unknown) => (err ? reject(err) : reject(new AuthenticationError())))
    })
  }
}
