/**
 * Private module upload: `PUT /{module}/@v/{version}.zip`. The zip must have the module zip layout the
 * go command produces and checks (golang.org/x/mod/zip): every entry under `{module}@{version}/`,
 * no escapes or links, no two names equal case-insensitively, size limits; its go.mod (if any) must
 * declare the same module path. The version is published with the zip and the extracted go.mod; the
 * upload time becomes the `.info` Time.
 */
import { createReadStream } from 'node:fs'
import { InputError, PayloadTooLargeError, type PublishResult, type RegistryContext, type RegistryRequest } from '@batlehub/sdk'
import type { GoproxyConfig } from './config.ts'
import { checkPathMajor, goModModulePath } from './module.ts'

/** golang.org/x/mod/zip limits. */
const MAX_GO_MOD = 16 << 20
const MAX_LICENSE = 16 << 20

export async function publishModuleZip(ctx: RegistryContext<GoproxyConfig>, req: RegistryRequest, module: string, version: string): Promise<PublishResult> {
  const prefix = `${module}@${version}/`
  const spooled = await req.body.spool(ctx.config.max_zip_bytes)
  try {
    let gomod: Buffer | undefined
    const folded = new Map<string, string>()
    await ctx.archives.zip(spooled.path, { requirePrefix: prefix, maxTotalBytes: ctx.config.max_zip_bytes, maxEntries: 100_000 }, async (entry, read) => {
      if (entry.type === 'directory') return
      const lower = entry.name.toLowerCase()
      const clash = folded.get(lower)
      if (clash) throw new InputError(`module zip has files whose names differ only in case: ${clash} and ${entry.name}`)
      folded.set(lower, entry.name)
      const rel = entry.name.slice(prefix.length)
      if (rel === 'go.mod') {
        if (entry.size > MAX_GO_MOD) throw new PayloadTooLargeError(`go.mod is larger than ${MAX_GO_MOD} bytes`)
        gomod = await read()
      } else if (rel === 'LICENSE' && entry.size > MAX_LICENSE) {
        throw new PayloadTooLargeError(`LICENSE is larger than ${MAX_LICENSE} bytes`)
      }
    })
    if (folded.size === 0) throw new InputError(`module zip has no files under ${prefix}`)
    checkPathMajor(module, version, gomod !== undefined)
    let modFile: Buffer
    if (gomod) {
      const declared = goModModulePath(gomod.toString('utf8'))
      if (declared !== module) {
        throw new InputError(`go.mod declares module ${JSON.stringify(declared ?? '')}, but the upload is for ${module}`)
      }
      modFile = gomod
    } else {
      // What the go command synthesises for a module without go.mod.
      modFile = Buffer.from(`module ${module}\n`)
    }
    const signature = req.header('x-artifact-signature')
    const signatureType = req.header('x-signature-type')
    return await ctx.packages.publish({
      name: module,
      version,
      identity: req.identity,
      files: [
        { filename: `${version}.zip`, body: createReadStream(spooled.path), contentType: 'application/zip', expect: { sha256: spooled.sha256 } },
        { filename: `${version}.mod`, body: modFile, contentType: 'text/plain; charset=utf-8' },
      ],
      metadata: { module, version, hasGoMod: gomod !== undefined },
      ...(signature && signatureType ? { signature: { value: signature, type: signatureType } } : {}),
    })
  } finally {
    await spooled.cleanup()
  }
}
