/**
 * npm-style error bodies. npm-registry-fetch appends the body's `error` to the message it prints
 * (`npm error 404 Not Found - GET https://…/left-pad - not found: left-pad`), so the text the user
 * needs goes there; the kernel still chooses the status.
 */
import type { ErrorInfo } from '@batlehub/sdk'

export function formatNpmError(err: ErrorInfo): { contentType: string; body: string } {
  return { contentType: 'application/json', body: JSON.stringify({ error: err.message }) }
}
