/**
 * `@batlehub/sdk`: the only module a BatleHub plugin imports from us.
 *
 * @remarks
 * Minor versions only add. Detect optional features with `ctx.meta.sdkVersion`.
 *
 * @packageDocumentation
 */
export * from './errors.ts'
export * from './identity.ts'
export * from './events.ts'
export * from './http.ts'
export * from './services.ts'
export * from './plugin.ts'
export * from './engines.ts'
export * from './secrets.ts'

/** This SDK's version, compared by the loader with each plugin's `sdk` range. @public @since 1.0.0 */
export const SDK_VERSION = '1.0.0'
