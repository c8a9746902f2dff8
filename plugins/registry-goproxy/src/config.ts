import Type, { type Static } from 'typebox'

/** The goproxy plugin's own keys in a `[[registries]]` table. */
export const GoproxyConfig = Type.Object({
  /**
   * Cache lifetime of a version's .info and .mod documents, which never change once published
   * (lists and @latest follow `cache.metadata_ttl_secs`).
   */
  immutable_ttl_secs: Type.Integer({ minimum: 0, default: 7 * 24 * 3600 }),
  /** Largest module zip accepted on upload (the go command's own limit is 500 MiB). */
  max_zip_bytes: Type.Integer({ minimum: 1, default: 500 * 1024 * 1024 }),
}, { additionalProperties: false })
export type GoproxyConfig = Static<typeof GoproxyConfig>
