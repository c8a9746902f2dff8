/**
 * Error bodies as PyPI (Warehouse/Pyramid) renders them: an HTML page whose title and heading are
 * `{status} {message}`, and the message as the HTTP reason phrase too, because twine prints
 * `response.reason` ("HTTPError: 400 Bad Request from …" followed by the reason) and pip prints the
 * status line.
 */
import type { ErrorInfo, FormattedError } from '@batlehub/sdk'
import { escapeHtml } from './simple.ts'

/** Plugin error codes (listed in the README). */
export const PYPI_ERROR_CODES = Object.freeze({
  BAD_UPLOAD: 'BH_PYPI_BAD_UPLOAD',
  FILE_EXISTS: 'BH_PYPI_FILE_EXISTS',
  BAD_DISTRIBUTION: 'BH_PYPI_BAD_DISTRIBUTION',
  DIGEST_MISMATCH: 'BH_PYPI_DIGEST_MISMATCH',
})

const EXPLANATION: Record<number, string> = {
  400: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  401: 'This server could not verify that you are authorized to access the document you requested.',
  403: 'Access was denied to this resource.',
  404: 'The resource could not be found.',
  409: 'There is a conflict with the current state of the resource.',
  413: 'The request body is larger than the server accepts.',
  422: 'The request was well-formed but was refused by a rule of this registry.',
  429: 'Too many requests.',
}

/** Renders an error the way PyPI does. */
export function formatPypiError(err: ErrorInfo): FormattedError {
  const message = err.message.replace(/\s+/g, ' ').trim()
  const title = escapeHtml(`${err.status} ${message}`)
  const body = [
    '<html>',
    ' <head>',
    `  <title>${title}</title>`,
    ' </head>',
    ' <body>',
    `  <h1>${title}</h1>`,
    `  ${escapeHtml(EXPLANATION[err.status] ?? '')}<br/><br/>`,
    escapeHtml(message),
    '',
    '',
    ' </body>',
    '</html>',
    '',
  ].join('\n')
  return { contentType: 'text/html; charset=UTF-8', body, reason: message }
}
