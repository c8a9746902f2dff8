/**
 * Parses proxy request paths: `/{escaped module}/@v/list`, `/{escaped module}/@v/{escaped version}.info|.mod|.zip`,
 * `/{escaped module}/@latest`, and `/sumdb/…`.
 */
import { InputError, NotFoundError } from '@batlehub/sdk'
import { checkModulePath, checkVersion, unescapePath } from './module.ts'

export interface GoPath {
  kind: 'list' | 'latest' | 'info' | 'mod' | 'zip' | 'sumdb'
  module: string
  version?: string
}

export function parseGoPath(rawPath: string): GoPath {
  let path: string
  try {
    path = decodeURIComponent(rawPath).replace(/^\/+/, '')
  } catch {
    throw new InputError('malformed percent-encoding in path')
  }
  if (path.startsWith('sumdb/')) return { kind: 'sumdb', module: '' }
  if (path.endsWith('/@latest')) {
    const module = unescapePath(path.slice(0, -'/@latest'.length))
    checkModulePath(module)
    return { kind: 'latest', module }
  }
  const at = path.lastIndexOf('/@v/')
  if (at <= 0) throw new NotFoundError(`not a module proxy path: /${path}`)
  const module = unescapePath(path.slice(0, at))
  checkModulePath(module)
  const file = path.slice(at + '/@v/'.length)
  if (file === 'list') return { kind: 'list', module }
  const m = /^(.+)\.(info|mod|zip)$/.exec(file)
  if (!m) throw new NotFoundError(`not a module proxy path: /${path}`)
  const version = unescapePath(m[1]!)
  checkVersion(version)
  return { kind: m[2] as 'info' | 'mod' | 'zip', module, version }
}
