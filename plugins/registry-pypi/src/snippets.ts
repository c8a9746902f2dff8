/** Client configuration blocks for the setup guide (pip, uv, twine). */
import type { RegistryMode, SetupSnippet } from '@batlehub/sdk'

export function pypiSetupSnippets(o: { baseUrl: string; registryName: string; mode: RegistryMode }): SetupSnippet[] {
  const simple = `${o.baseUrl}/simple/`
  const host = (() => {
    try {
      return new URL(o.baseUrl).hostname
    } catch {
      return 'batlehub.example.com'
    }
  })()
  const snippets: SetupSnippet[] = [
    { title: 'pip.conf (~/.config/pip/pip.conf or ~/.pip/pip.conf)', language: 'ini', purpose: 'install', content: `[global]\nindex-url = ${simple}\n` },
    {
      title: 'pyproject.toml (uv)',
      language: 'toml',
      purpose: 'install',
      content: `[[tool.uv.index]]\nname = "batlehub"\nurl = "${simple}"\ndefault = true\n`,
    },
    {
      title: '~/.netrc (credentials for pip and uv)',
      language: 'text',
      purpose: 'install',
      content: `machine ${host}\nlogin __token__\npassword <your-token>\n`,
    },
  ]
  if (o.mode !== 'proxy') {
    snippets.push(
      {
        title: '~/.pypirc (twine)',
        language: 'ini',
        purpose: 'publish',
        content: `[distutils]\nindex-servers = batlehub\n\n[batlehub]\nrepository = ${o.baseUrl}/legacy/\nusername = __token__\npassword = <your-token>\n`,
      },
      {
        title: 'Upload with twine',
        language: 'shell',
        purpose: 'publish',
        content: `python -m build\ntwine upload --repository-url ${o.baseUrl}/legacy/ -u __token__ -p "$BATLEHUB_TOKEN" dist/*\n`,
      },
    )
  }
  return snippets
}
