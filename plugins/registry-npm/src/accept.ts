/**
 * Content negotiation for packuments.
 *
 * Installers (npm, pnpm, yarn) ask for the abbreviated "corgi" document with
 * `Accept: application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, *\/*`; `npm view`
 * and friends ask for `application/json`. The registry picks the form with the higher q-value; on a
 * tie the more specific abbreviated form wins, and a bare `*\/*` (or no header) gets the full document.
 */

export const ABBREVIATED_TYPE = 'application/vnd.npm.install-v1+json'
export const FULL_TYPE = 'application/json'
/** What the hub asks an upstream for when it wants the abbreviated document. */
export const ABBREVIATED_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'
export const FULL_ACCEPT = 'application/json'

/** The form of packument a request wants. */
export type PackumentForm = 'full' | 'abbreviated'

function qualities(accept: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';')
    const t = type!.trim().toLowerCase()
    if (!t) continue
    let q = 1
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p)
      if (m) q = Math.max(0, Math.min(1, Number(m[1])))
      if (Number.isNaN(q)) q = 0
    }
    // The first mention of a type wins, like most servers.
    if (!out.has(t)) out.set(t, q)
  }
  return out
}

// Clients send a handful of distinct Accept strings: remember the answers (bounded).
const memo = new Map<string, PackumentForm>()

/** Which packument form an `Accept` header asks for. */
export function packumentForm(accept: string | undefined): PackumentForm {
  if (!accept) return 'full'
  const known = memo.get(accept)
  if (known) return known
  const form = negotiate(accept)
  if (memo.size >= 256) memo.clear()
  memo.set(accept, form)
  return form
}

function negotiate(accept: string): PackumentForm {
  const q = qualities(accept)
  const abbreviated = q.get(ABBREVIATED_TYPE) ?? 0
  if (abbreviated <= 0) return 'full'
  const json = q.get(FULL_TYPE) ?? q.get('application/*') ?? q.get('*/*') ?? 0
  return abbreviated >= json ? 'abbreviated' : 'full'
}
