/** The configuration module: schemas, loading, defaults, redaction. */
export * from './schema.ts'
export * from './load.ts'
export { defaultConfig } from './defaults.ts'
export { redactConfig, redactUrl, REDACTED } from './redact.ts'
export { formatPath } from './errors.ts'
