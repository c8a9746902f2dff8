/**
 * Writes (modes local and hybrid): publish, packument updates (deprecate, partial unpublish),
 * whole-package unpublish, tarball deletion, dist-tags.
 *
 * npm 10/11 request sequences:
 * - `npm publish`: PUT /{escaped-name} with the version, its dist-tag and the base64 tarball.
 * - `npm deprecate`/`undeprecate`: GET /{name}?write=true, then PUT /{name} with the whole packument
 *   and `versions[v].deprecated` set (or '').
 * - `npm unpublish name@v`: GET ?write=true; PUT /{name}/-rev/{rev} with the packument minus the
 *   version (tags moved off it); GET ?write=true; DELETE {tarball path}/-rev/{rev}. The tarball path is
 *   the URL path of `dist.tarball` appended to the registry URL, so under a mount it arrives with the
 *   mount repeated (`/proxy/npm/proxy/npm/name/-/name-1.0.0.tgz/-rev/…`): it is matched by its tail.
 * - `npm unpublish name --force` (or of the only version): GET ?write=true; DELETE /{name}/-rev/{rev}.
 * - `npm dist-tag add|rm`: PUT|DELETE /-/package/{escaped-name}/dist-tags/{tag}, the PUT body being
 *   the JSON string of the version.
 */
import { InputError, NotAllowedError, NotFoundError, reply, type RegistryRequest } from '@batlehub/sdk'
import { isTagName, isVersionString, parseName, versionOfTarball, type PackageName } from '../names.ts'
import { diffPackument, isPublishBody, parsePublish } from '../publish.ts'
import type { NpmService } from '../service.ts'
import { nameOf } from './read.ts'

export function registerWriteRoutes(svc: NpmService): void {
  const { routes, packages } = svc.ctx
  const limits = {
    maxUnpackedBytes: svc.ctx.config.max_unpacked_bytes,
    maxEntries: svc.ctx.config.max_tarball_entries,
    maxManifestBytes: 1024 * 1024,
  }

  /** The local package a management request acts on; 404 when absent or not visible. */
  const localPackage = async (name: PackageName, req: RegistryRequest) => {
    const pkg = await packages.getPackage(name.name, { identity: req.identity })
    if (!pkg) throw new NotFoundError(`package ${name.name} not found`)
    return pkg
  }

  const publishOrUpdate = async (req: RegistryRequest) => {
    const name = nameOf(req.params)
    const body = await req.body.json()
    if (isPublishBody(body)) {
      const p = await parsePublish(body, name, svc.ctx.archives, limits)
      const result = await packages.publish({
        name: p.name,
        version: p.version,
        identity: req.identity,
        files: [{ filename: p.filename, body: p.tarball, contentType: 'application/octet-stream', expect: { sha512: p.integrity, sha1: p.shasum } }],
        metadata: p.manifest,
        tags: { [p.tag]: p.version },
        signal: req.signal,
        ...(p.description ? { description: p.description } : {}),
      })
      svc.forgetLocal(name)
      return reply.json({ ok: true, success: true, id: p.name }, 201, { ...result.headers })
    }
    return updatePackument(req, name, body)
  }

  const updatePackument = async (req: RegistryRequest, name: PackageName, body: unknown) => {
    const pkg = await localPackage(name, req)
    if (!(await packages.canManage(name.name, req.identity))) throw new NotAllowedError(`${req.identity.userId} may not change ${name.name}`)
    const served = pkg.versions.filter((v) => !v.yanked)
    const diff = diffPackument(body, name, { versions: served, tags: pkg.tags })
    const identity = req.identity
    for (const { version, message } of diff.deprecate) await packages.deprecate(name.name, version, { identity, message })
    for (const version of diff.removeVersions) await packages.delete(name.name, version, { identity })
    for (const [tag, version] of Object.entries(diff.setTags)) await packages.setTag(name.name, tag, version, { identity })
    for (const tag of diff.removeTags) if (tag !== 'latest') await packages.removeTag(name.name, tag, { identity })
    svc.forgetLocal(name)
    return reply.json({ ok: true })
  }

  const unpublishAll = async (req: RegistryRequest) => {
    const name = nameOf(req.params)
    await localPackage(name, req)
    await packages.delete(name.name, undefined, { identity: req.identity })
    svc.forgetLocal(name)
    return reply.json({ ok: true })
  }

  /** DELETE …/{name}/-/{file}/-rev/{rev}: the last step of a partial unpublish. */
  const deleteTarball = async (req: RegistryRequest) => {
    const segments = req.path.split('/').filter(Boolean).map((s) => {
      try {
        return decodeURIComponent(s)
      } catch {
        throw new InputError(`malformed path ${req.path}`)
      }
    })
    // … [@scope] name - file -rev rev
    const n = segments.length
    if (n < 5 || segments[n - 2] !== '-rev' || segments[n - 4] !== '-') throw new NotFoundError(`no DELETE route for ${req.path}`)
    const file = segments[n - 3]!
    const last = segments[n - 5]!
    const raw = last.includes('/') ? last : n >= 6 && segments[n - 6]!.startsWith('@') ? `${segments[n - 6]}/${last}` : last
    const name = parseName(raw)
    if (!name) throw new InputError(`Invalid package name: ${JSON.stringify(raw)}`)
    const version = versionOfTarball(name, file)
    if (!version) throw new NotFoundError(`no tarball ${file} for ${name.name}`)
    const pkg = await localPackage(name, req)
    if (pkg.versions.some((v) => v.version === version)) {
      await packages.delete(name.name, version, { identity: req.identity })
      svc.forgetLocal(name)
    }
    // Already gone (the packument update removed it): npm only needs a success.
    return reply.json({ ok: true })
  }

  const setTag = async (req: RegistryRequest) => {
    const name = nameOf(req.params)
    const tag = req.params.tag!
    if (!isTagName(tag)) throw new InputError(`invalid dist-tag ${JSON.stringify(tag)}: tags must not look like versions`)
    const version = await req.body.json(64 * 1024)
    if (!isVersionString(version)) throw new InputError('the body must be the JSON string of a version')
    const pkg = await localPackage(name, req)
    if (!pkg.versions.some((v) => v.version === version && !v.yanked)) throw new NotFoundError(`version not found: ${name.name}@${version}`)
    await packages.setTag(name.name, tag, version, { identity: req.identity })
    svc.forgetLocal(name)
    return reply.json({ ok: true }, 201)
  }

  const removeTag = async (req: RegistryRequest) => {
    const name = nameOf(req.params)
    const tag = req.params.tag!
    if (tag === 'latest') throw new InputError('the latest tag cannot be removed; move it with npm dist-tag add')
    const pkg = await localPackage(name, req)
    if (!Object.hasOwn(pkg.tags, tag)) throw new NotFoundError(`dist-tag ${tag} not found on ${name.name}`)
    await packages.removeTag(name.name, tag, { identity: req.identity })
    svc.forgetLocal(name)
    return reply.json({ ok: true })
  }

  // No `modes` option: the kernel answers writes to a proxy-mode registry with the documented 403
  // "registry is not in local or hybrid mode".
  const opts = (summary: string) => ({ summary })
  routes.put('/-/package/:name/dist-tags/:tag', setTag, opts('Set a dist-tag'))
  routes.post('/-/package/:name/dist-tags/:tag', setTag, opts('Set a dist-tag'))
  routes.delete('/-/package/:name/dist-tags/:tag', removeTag, opts('Remove a dist-tag'))
  routes.put('/@:scope/:pkg/-rev/:rev', (req) => req.body.json().then((b) => updatePackument(req, nameOf(req.params), b)), opts('Update a scoped packument'))
  routes.put('/:name/-rev/:rev', (req) => req.body.json().then((b) => updatePackument(req, nameOf(req.params), b)), opts('Update a packument (unpublish a version)'))
  routes.put('/@:scope/:pkg', publishOrUpdate, opts('Publish a scoped package'))
  routes.put('/:name', publishOrUpdate, opts('Publish, deprecate'))
  routes.delete('/@:scope/:pkg/-rev/:rev', unpublishAll, opts('Unpublish a scoped package'))
  routes.delete('/:name/-rev/:rev', unpublishAll, opts('Unpublish a package'))
  routes.delete('/*path', deleteTarball, opts('Delete a tarball (partial unpublish)'))
}
