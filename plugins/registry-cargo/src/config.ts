import Type, { type Static } from 'typebox'

/**
 * The cargo plugin's own keys in a `[[registries]]` table (snake_case, beside the kernel keys).
 * `upstreams` (kernel key) are sparse index base URLs, default `https://index.crates.io`.
 */
export const CargoConfig = Type.Object({
  /**
   * Where `.crate` files of the upstream are downloaded from: a cargo `dl` value (markers
   * `{crate}`, `{version}`, `{prefix}`, `{lowerprefix}`, `{sha256-checksum}`; without markers
   * `/{crate}/{version}/download` is appended). Unset: the upstream's own `config.json` `dl`, else
   * `https://static.crates.io/crates`.
   */
  download_url: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'Upstream .crate download base or cargo dl template' })),
  /**
   * Base URL of the upstream web API (search, publish times). Unset: the upstream's `config.json`
   * `api`. The kernel key `search_url` still overrides it for search (`""` disables search).
   */
  api_url: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', description: 'Upstream web API base URL' })),
  /** Largest `.crate` accepted by `cargo publish` (crates.io's default is 10 MiB). */
  max_crate_bytes: Type.Integer({ minimum: 1, default: 10 * 1024 * 1024, description: 'Largest .crate accepted by cargo publish' }),
  /** Largest JSON metadata of a publish (it carries the README). */
  max_metadata_bytes: Type.Integer({ minimum: 1024, default: 2 * 1024 * 1024, description: 'Largest publish metadata JSON' }),
  /** Largest total size of a published `.crate` once unpacked (zip-bomb guard; crates.io uses 512 MiB). */
  max_unpacked_bytes: Type.Integer({ minimum: 1, default: 512 * 1024 * 1024, description: 'Largest unpacked size of a published .crate' }),
  /** Most entries a published `.crate` may contain. */
  max_crate_entries: Type.Integer({ minimum: 1, default: 20000, description: 'Most tar entries in a published .crate' }),
}, { additionalProperties: false })
export type CargoConfig = Static<typeof CargoConfig>
