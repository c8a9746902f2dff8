/**
 * Maven repositories answer plain status codes; `mvn` prints the status line
 * (`status: 409 <reason phrase>`) and never the body. The message therefore goes into the reason
 * phrase as well as a text/plain body (for curl and repository browsers).
 */
import type { ErrorInfo, FormattedError } from '@batlehub/sdk'

/** Maven-specific error codes (status carried on the error), listed in the README. */
export const MAVEN_ERROR_CODES = {
  /** 400: an uploaded checksum does not match the stored file. */
  checksumMismatch: 'BH_MAVEN_CHECKSUM_MISMATCH',
  /** 400: a POM's coordinates disagree with its path. */
  pomMismatch: 'BH_MAVEN_POM_MISMATCH',
  /** 409: a release version (or a file of it) exists already. */
  releaseExists: 'BH_MAVEN_RELEASE_EXISTS',
} as const

export function formatMavenError(err: ErrorInfo): FormattedError {
  return { contentType: 'text/plain; charset=utf-8', body: `${err.message}\n`, reason: err.message }
}
