/**
 * Client configuration for the setup guide: source replacement of crates.io (install) and a named
 * registry with a token (publish).
 */
import type { RegistryMode, SetupSnippet } from '@batlehub/sdk'

/** The registry's mount URL, whether the caller passed the hub's base or the mount itself. */
export function registryUrl(baseUrl: string, registryName: string): string {
  const base = baseUrl.replace(/\/+$/, '')
  return base.endsWith(`/proxy/${registryName}`) ? base : `${base}/proxy/${registryName}`
}

/** Cargo's environment variable for a named registry's token. */
export function tokenVariable(registryName: string): string {
  return `CARGO_REGISTRIES_${registryName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_TOKEN`
}

export function setupSnippets(options: { baseUrl: string; registryName: string; mode: RegistryMode; authRequired: boolean }): SetupSnippet[] {
  const index = `sparse+${registryUrl(options.baseUrl, options.registryName)}/registry/`
  const name = options.registryName
  const out: SetupSnippet[] = []
  if (options.mode !== 'local') {
    out.push({
      title: '.cargo/config.toml: fetch crates.io crates through BatleHub',
      language: 'toml',
      purpose: 'install',
      content: options.authRequired
        // A registry that needs a token is declared under [registries] so that cargo can find one
        // for it; crates.io is then replaced by that registry.
        ? `[registries.${name}]\nindex = "${index}"\n# cargo sends tokens to authenticated registries only through a configured credential provider\ncredential-provider = "cargo:token"\n\n[source.crates-io]\nreplace-with = "${name}"\n\n# token: cargo login --registry ${name}\n#    or: export ${tokenVariable(name)}=<your BatleHub token>\n`
        : `[source.crates-io]\nreplace-with = "batlehub"\n\n[source.batlehub]\nregistry = "${index}"\n`,
    })
  }
  if (options.mode !== 'proxy') {
    out.push({
      title: '.cargo/config.toml: private crates',
      language: 'toml',
      purpose: 'publish',
      content: `[registries.${name}]\nindex = "${index}"\n${options.authRequired ? '# cargo sends tokens to authenticated registries only through a configured credential provider\ncredential-provider = "cargo:token"\n' : ''}\n# token: cargo login --registry ${name}\n#    or: export ${tokenVariable(name)}=<your BatleHub token>\n`,
    })
    out.push({
      title: 'Publish, yank and depend on a private crate',
      language: 'shell',
      purpose: 'publish',
      content: `cargo publish --registry ${name}\ncargo yank --registry ${name} my-crate@0.1.0\ncargo yank --undo --registry ${name} my-crate@0.1.0\n# Cargo.toml: my-crate = { version = "0.1", registry = "${name}" }\n`,
    })
  }
  return out
}
