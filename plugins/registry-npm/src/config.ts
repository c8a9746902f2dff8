import Type, { type Static } from 'typebox'

/** The npm plugin's own keys in a `[[registries]]` table (snake_case, like the kernel keys beside them). */
export const NpmConfig = Type.Object({
  /** Largest upstream packument accepted (some public packuments exceed 50 MiB). */
  max_packument_bytes: Type.Integer({ minimum: 1024, default: 128 * 1024 * 1024 }),
  /** Publish: largest total of unpacked bytes in a tarball (stops gzip bombs while inflating). */
  max_unpacked_bytes: Type.Integer({ minimum: 1024, default: 512 * 1024 * 1024 }),
  /** Publish: largest number of entries in a tarball. */
  max_tarball_entries: Type.Integer({ minimum: 1, default: 100_000 }),
  /** Packages whose tarball index (version → upstream URL and digests) is kept in memory. */
  index_cache_packages: Type.Integer({ minimum: 16, default: 20_000 }),
  /** Largest `size` a search request may ask for. */
  max_search_results: Type.Integer({ minimum: 1, maximum: 250, default: 250 }),
}, { additionalProperties: false })
export type NpmConfig = Static<typeof NpmConfig>
