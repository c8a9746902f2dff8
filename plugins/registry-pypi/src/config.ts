import Type, { type Static } from 'typebox'

/**
 * The plugin's own keys of a `[[registries]]` table with `type = "pypi"` (snake_case, like the
 * kernel keys beside them).
 */
export const PypiConfig = Type.Object({
  /** Path of the Simple Repository API below each upstream base URL (`/simple` on pypi.org, devpi's `/root/pypi/+simple`). */
  simple_path: Type.String({ pattern: '^(/[^\\s?#]*)?$', default: '/simple', description: 'Simple API path below each upstream' }),
  /** Path of the JSON API below each upstream base URL; empty when the upstream has none. */
  json_api_path: Type.String({ pattern: '^(/[^\\s?#]*)?$', default: '/pypi', description: 'JSON API path below each upstream ("" = none)' }),
  /** Most entries an uploaded wheel or sdist may hold. */
  max_archive_entries: Type.Integer({ minimum: 1, default: 100_000 }),
  /** Largest total uncompressed size of an uploaded wheel or sdist (zip-bomb bound). */
  max_uncompressed_bytes: Type.Integer({ minimum: 1, default: 8 * 1024 * 1024 * 1024 }),
  /** Largest METADATA / PKG-INFO read from an upload. */
  max_metadata_bytes: Type.Integer({ minimum: 1024, default: 16 * 1024 * 1024 }),
  /** Largest long description kept for the JSON API (longer ones are cut). */
  max_description_bytes: Type.Integer({ minimum: 0, default: 512 * 1024 }),
}, { additionalProperties: false })
export type PypiConfig = Static<typeof PypiConfig>
