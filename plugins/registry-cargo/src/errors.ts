/**
 * Cargo's error body and this plugin's error codes.
 */
import { BatleHubError, type ErrorInfo } from '@batlehub/sdk'

/** Error codes of this plugin (listed in the README). */
export const CARGO_ERRORS = Object.freeze({
  /** The crate name breaks the naming rules. */
  BAD_NAME: 'BH_CARGO_BAD_NAME',
  /** The version is not SemVer 2.0. */
  BAD_VERSION: 'BH_CARGO_BAD_VERSION',
  /** The publish request is not a well-formed cargo publish frame. */
  BAD_FRAME: 'BH_CARGO_BAD_FRAME',
  /** The publish metadata JSON is malformed or breaks a rule. */
  BAD_METADATA: 'BH_CARGO_BAD_METADATA',
  /** The `.crate` is not a gzip tar of `{name}-{version}/…` files agreeing with the metadata. */
  BAD_CRATE: 'BH_CARGO_BAD_CRATE',
  /** Another crate already holds this name up to case and `-`/`_`. */
  NAME_TAKEN: 'BH_CARGO_NAME_TAKEN',
} as const)

/** A 4xx error of this plugin; the message reaches cargo as the error `detail`. */
export class CargoError extends BatleHubError {
  constructor(code: string, message: string, status = 400) {
    super(code, message, status)
  }
}

/**
 * Cargo's web API error shape, `{"errors":[{"detail":"…"}]}`: cargo prints `detail` for any status
 * (registry-web-api.md), so every route of the registry answers in it, index and downloads included.
 */
export function formatCargoError(err: ErrorInfo): { contentType: string; body: string } {
  return { contentType: 'application/json; charset=utf-8', body: JSON.stringify({ errors: [{ detail: err.message }] }) }
}
