/**
 * Cargo's web API (registry-web-api.md): publish, yank/unyank, owners and search, mounted at the
 * registry root because `config.json` names the registry's base URL as `api`.
 */
import { pipeline } from 'node:stream'
import { InputError, NotFoundError, reply, type OwnerInfo, type RegistryRequest } from '@batlehub/sdk'
import { CrateInspector } from '../crate-file.ts'
import { CARGO_ERRORS, CargoError } from '../errors.ts'
import { crateFilename } from '../local.ts'
import { parsePublishMetadata } from '../metadata.ts'
import { canonicalCrateName, isIndexableName, isSemver, normalizeCrateName } from '../names.ts'
import { readPublishFrame } from '../publish-frame.ts'
import { CargoService } from '../service.ts'
import type { SearchCrate } from '../upstream.ts'

/** Records of crates.io's `-`/`_` and case collision rule: canonical name → published name. */
const CANONICAL = 'canonical-names'

function crateParam(req: RegistryRequest): string {
  const name = req.params.name ?? ''
  if (!isIndexableName(name)) throw new NotFoundError(`crate \`${String(name).slice(0, 80)}\` does not exist`)
  return name
}

function versionParam(req: RegistryRequest): string {
  const version = req.params.version ?? ''
  if (!isSemver(version)) throw new NotFoundError(`version \`${String(version).slice(0, 80)}\` does not exist`)
  return version
}

/** `login` strings of `cargo owner`: users by id, groups as `group:<id>`. */
export function ownerLogin(o: Pick<OwnerInfo, 'principalType' | 'principalId'>): string {
  return o.principalType === 'group' ? `group:${o.principalId}` : o.principalId
}

/** Parses a `login` of `cargo owner --add/--remove`. */
export function parseOwnerLogin(login: unknown): Pick<OwnerInfo, 'principalType' | 'principalId'> {
  if (typeof login !== 'string' || login.trim() === '' || login.length > 256 || /[\s\u0000-\u001f]/.test(login)) {
    throw new InputError(`invalid owner login ${JSON.stringify(login)}`)
  }
  return login.startsWith('group:') ? { principalType: 'group', principalId: login.slice('group:'.length) } : { principalType: 'user', principalId: login }
}

async function ownerLogins(req: RegistryRequest): Promise<string[]> {
  const body = await req.body.json<{ users?: unknown }>(64 * 1024)
  if (!body || !Array.isArray(body.users) || body.users.length === 0 || body.users.length > 100) {
    throw new InputError('expected {"users": ["login", …]}')
  }
  return body.users as string[]
}

export function webApiRoutes(service: CargoService): void {
  const { ctx } = service
  const frameLimit = 8 + ctx.config.max_metadata_bytes + ctx.config.max_crate_bytes

  /** The caller-visible local crate, or a 404 in cargo's format. */
  const localCrate = async (req: RegistryRequest, name: string) => {
    const pkg = await ctx.packages.getPackage(name, { identity: req.identity })
    if (!pkg) throw new NotFoundError(`crate \`${name}\` does not exist in this registry`)
    return pkg
  }

  ctx.routes.put('/api/v1/crates/new', async (req) => {
    const frame = await readPublishFrame(req.body.stream(), {
      maxMetadataBytes: ctx.config.max_metadata_bytes,
      maxCrateBytes: ctx.config.max_crate_bytes,
    })
    const meta = parsePublishMetadata(frame.metadata)
    // crates.io: one crate per name up to case and `-`/`_`. Index files differ for `foo-bar` and
    // `foo_bar`, but users (and typosquatters) cannot tell them apart.
    const canonical = canonicalCrateName(meta.name)
    const existing = await ctx.records.get<{ name: string }>(CANONICAL, canonical)
    // The record covers mixed spellings (`a-b_c` / `a_b-c`); the case-folded name and its two
    // uniform spellings also catch packages that reached the store another way (an admin upload).
    const lower = normalizeCrateName(meta.name)
    for (const candidate of new Set([existing?.name, lower, lower.replace(/_/g, '-'), lower.replace(/-/g, '_')])) {
      if (!candidate) continue
      const rival = await ctx.packages.getPackage(candidate)
      if (rival && rival.name !== meta.name) {
        throw new CargoError(CARGO_ERRORS.NAME_TAKEN, `crate \`${meta.name}\` collides with the existing crate \`${rival.name}\` (names are compared ignoring case and \`-\`/\`_\`)`, 409)
      }
    }
    const inspector = new CrateInspector(ctx.archives, {
      name: meta.name,
      version: meta.vers,
      maxUnpackedBytes: ctx.config.max_unpacked_bytes,
      maxEntries: ctx.config.max_crate_entries,
    })
    pipeline(frame.crate, inspector, () => {})
    const signatureValue = req.header('x-artifact-signature')
    const signatureType = req.header('x-signature-type')
    let result
    try {
      result = await ctx.packages.publish({
        name: meta.name,
        version: meta.vers,
        identity: req.identity,
        signal: req.signal,
        files: [{ filename: crateFilename(meta.name, meta.vers), body: inspector, contentType: 'application/gzip' }],
        metadata: meta.version as unknown as Record<string, unknown>,
        ...(meta.version.description ? { description: meta.version.description } : {}),
        ...(signatureValue && signatureType ? { signature: { value: signatureValue, type: signatureType } } : {}),
      })
    } catch (err) {
      // The store may report a refused body as its own failure; the inspector's reason is the useful one.
      throw inspector.error ?? err
    } finally {
      if (!inspector.facts) inspector.destroy()
    }
    if (!inspector.facts) throw inspector.error ?? new CargoError(CARGO_ERRORS.BAD_CRATE, 'the .crate was not read completely')
    if (existing?.name !== meta.name) await ctx.records.put(CANONICAL, canonical, { name: meta.name })
    return reply.json({ warnings: { invalid_categories: [], invalid_badges: [], other: [] } }, 200, { ...result.headers })
  }, { bodyLimit: frameLimit, summary: 'cargo publish' })

  ctx.routes.delete('/api/v1/crates/:name/:version/yank', async (req) => {
    const name = crateParam(req)
    const version = versionParam(req)
    await ctx.packages.yank(name, version, { identity: req.identity })
    return reply.json({ ok: true })
  }, { summary: 'cargo yank' })

  ctx.routes.put('/api/v1/crates/:name/:version/unyank', async (req) => {
    const name = crateParam(req)
    const version = versionParam(req)
    await ctx.packages.unyank(name, version, { identity: req.identity })
    return reply.json({ ok: true })
  }, { summary: 'cargo yank --undo' })

  ctx.routes.get('/api/v1/crates/:name/owners', async (req) => {
    const name = crateParam(req)
    await localCrate(req, name)
    const owners = await ctx.packages.owners(name)
    return reply.json({
      users: owners.map((o, i) => ({ id: i + 1, login: ownerLogin(o), name: o.principalType === 'group' ? `group ${o.principalId} (${o.role})` : `${o.principalId} (${o.role})` })),
    })
  }, { summary: 'cargo owner --list' })

  ctx.routes.put('/api/v1/crates/:name/owners', async (req) => {
    const name = crateParam(req)
    const logins = await ownerLogins(req)
    await localCrate(req, name)
    for (const login of logins) {
      const owner = parseOwnerLogin(login)
      // crates.io: invited users become full owners; teams may publish and yank but not manage owners.
      await ctx.packages.addOwner(name, { ...owner, role: owner.principalType === 'user' ? 'admin' : 'maintainer' }, { identity: req.identity })
    }
    return reply.json({ ok: true, msg: `${logins.join(', ')} ${logins.length === 1 ? 'is' : 'are'} now ${logins.length === 1 ? 'an owner' : 'owners'} of crate ${name}` })
  }, { summary: 'cargo owner --add' })

  ctx.routes.delete('/api/v1/crates/:name/owners', async (req) => {
    const name = crateParam(req)
    const logins = await ownerLogins(req)
    await localCrate(req, name)
    for (const login of logins) await ctx.packages.removeOwner(name, parseOwnerLogin(login), { identity: req.identity })
    return reply.json({ ok: true, msg: 'owners successfully removed' })
  }, { summary: 'cargo owner --remove' })

  ctx.routes.get('/api/v1/crates', async (req) => {
    const q = (req.query.get('q') ?? '').trim().slice(0, 256)
    const perPage = Math.min(100, Math.max(1, Number.parseInt(req.query.get('per_page') ?? '10', 10) || 10))
    const crates: SearchCrate[] = []
    let total = 0
    const seen = new Set<string>()
    if (service.mode !== 'proxy') {
      // Packages the caller may not see are left out by the store.
      const found = await ctx.packages.search(q, { limit: perPage, identity: req.identity })
      for (const item of found.items) {
        // crates.io's max_version is the highest non-yanked version by SemVer, not the newest.
        const pkg = await ctx.packages.getPackage(item.name, { identity: req.identity })
        if (!pkg) continue
        const v = CargoService.maxVersions(pkg)
        seen.add(normalizeCrateName(pkg.name))
        crates.push({
          name: pkg.name,
          max_version: v.max ?? v.newest ?? '0.0.0',
          max_stable_version: v.stable ?? null,
          newest_version: v.newest ?? v.max ?? '0.0.0',
          description: pkg.description ?? null,
          updated_at: pkg.updatedAt,
        })
      }
      total += found.total
    }
    if (service.mode !== 'local' && q !== '' && crates.length < perPage) {
      const upstream = await service.upstream.search(q, perPage, req.signal)
      let added = 0
      for (const c of upstream.crates) {
        // A local name hides the upstream crate of the same name, as the index does.
        if (seen.has(normalizeCrateName(c.name))) continue
        if (crates.length >= perPage) break
        crates.push(c)
        added++
      }
      total += Math.max(upstream.total, added)
    }
    return reply.json({ crates, meta: { total: Math.max(total, crates.length) } })
  }, { summary: 'cargo search (local crates first, then the upstream)' })
}

