import Type, { type Static } from 'typebox'

/**
 * The plugin's own keys in a `[[registries]]` table of `type = "maven"` (snake_case, like the
 * kernel keys beside them). Upload size is the kernel's `max_artifact_bytes`.
 */
export const MavenConfig = Type.Object({
  /**
   * How long files uploaded before their POM wait for it (`mvn deploy` order varies by plugin
   * version), and how long after a release's POM its other files (JAR, sources, checksums) may
   * still be added. Staged files older than this are discarded.
   */
  staging_ttl_secs: Type.Integer({ minimum: 60, default: 3600 }),
  /** Largest POM accepted (POMs and uploaded maven-metadata.xml are read whole to be checked). */
  max_pom_bytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
  /** Fetch the upstream `.sha1` of an artifact and refuse to cache bytes that do not match it. */
  verify_upstream_checksums: Type.Boolean({ default: true }),
  /** Cache lifetime of upstream checksum files (they describe immutable files). */
  checksum_ttl_secs: Type.Integer({ minimum: 0, default: 7 * 24 * 3600 }),
}, { additionalProperties: false })
export type MavenConfig = Static<typeof MavenConfig>
