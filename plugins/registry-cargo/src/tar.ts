/**
 * A streaming reader of tar archives (ustar, GNU long names, pax headers), enough to check a
 * `.crate` before it is stored. It never touches the filesystem: entries are reported with their
 * resolved path and type, and the data of chosen entries can be collected.
 */

/** Entry types as this reader reports them. Links and devices are reported so they can be refused. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other'

/** One archive member after long-name and pax resolution. */
export interface TarEntry {
  readonly path: string
  readonly type: TarEntryType
  /** The raw type flag, for messages. */
  readonly flag: string
  readonly size: number
  readonly linkPath?: string
}

/** Callbacks of {@link TarReader}. A thrown error stops the reader and is re-thrown from `write`/`end`. */
export interface TarHandlers {
  /** Called for each entry; return true to receive its data through `onData`. */
  onEntry(entry: TarEntry): boolean
  onData?(entry: TarEntry, chunk: Buffer): void
  onEntryEnd?(entry: TarEntry): void
}

/** A malformed archive. */
export class TarFormatError extends Error {}

const BLOCK = 512
// Pax and GNU long-name records are small; a huge one is an attack, not a path.
const MAX_META_BYTES = 1024 * 1024

function cstring(buf: Buffer, start: number, length: number): string {
  const field = buf.subarray(start, start + length)
  const nul = field.indexOf(0)
  return (nul === -1 ? field : field.subarray(0, nul)).toString('utf8')
}

function parseNumber(buf: Buffer, start: number, length: number, what: string): number {
  const field = buf.subarray(start, start + length)
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian two's complement, high bit set. Negative sizes are nonsense.
    if (field[0] === 0xff) throw new TarFormatError(`negative ${what} in tar header`)
    let n = field[0]! & 0x7f
    for (let i = 1; i < field.length; i++) {
      n = n * 256 + field[i]!
      if (n > Number.MAX_SAFE_INTEGER) throw new TarFormatError(`${what} too large in tar header`)
    }
    return n
  }
  const text = cstring(buf, start, length).trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new TarFormatError(`malformed ${what} ${JSON.stringify(text)} in tar header`)
  return parseInt(text, 8)
}

function checksumOk(header: Buffer): boolean {
  const stored = parseNumber(header, 148, 8, 'checksum')
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  return stored === unsigned || stored === signed
}

/** Parses pax extended header records (`"%d %s=%s\n"`). */
export function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    if (space === -1) throw new TarFormatError('malformed pax record')
    const len = Number(data.subarray(pos, space).toString('ascii'))
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) throw new TarFormatError('malformed pax record length')
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8')
    if (data[pos + len - 1] !== 0x0a) throw new TarFormatError('malformed pax record terminator')
    const eq = record.indexOf('=')
    if (eq === -1) throw new TarFormatError('malformed pax record')
    out[record.slice(0, eq)] = record.slice(eq + 1)
    pos += len
  }
  return out
}

function typeOf(flag: string): TarEntryType {
  switch (flag) {
    case '0': case '\0': case '': case '7': return 'file'
    case '5': return 'directory'
    case '2': return 'symlink'
    case '1': return 'hardlink'
    default: return 'other'
  }
}

type State =
  | { kind: 'header' }
  | { kind: 'data'; entry: TarEntry; remaining: number; padding: number; wanted: boolean }
  | { kind: 'meta'; flag: string; remaining: number; padding: number; chunks: Buffer[] }
  | { kind: 'skip'; remaining: number }
  | { kind: 'done' }

/**
 * Push-based tar reader: feed it bytes with `write`, then call `end`. Validates header checksums,
 * resolves GNU `L`/`K` long names and pax `x` headers (`path`, `linkpath`, `size`), and reports
 * whether the archive ended properly.
 */
export class TarReader {
  private pending: Buffer = Buffer.alloc(0)
  private state: State = { kind: 'header' }
  private longName?: string
  private longLink?: string
  private pax: Record<string, string> = {}
  private zeroBlocks = 0
  private failure?: Error
  /** Entries seen so far (pax and long-name headers excluded). */
  entries = 0

  private readonly handlers: TarHandlers

  constructor(handlers: TarHandlers) {
    this.handlers = handlers
  }

  /** Whether the end-of-archive marker was seen. */
  get finished(): boolean {
    return this.state.kind === 'done'
  }

  write(chunk: Buffer): void {
    if (this.failure) throw this.failure
    try {
      this.consume(chunk)
    } catch (err) {
      this.failure = err as Error
      throw err
    }
  }

  /** Checks that the archive is complete. */
  end(): void {
    if (this.failure) throw this.failure
    if (this.state.kind === 'data' || this.state.kind === 'meta' || this.state.kind === 'skip') {
      throw new TarFormatError('the tar archive is truncated')
    }
    // Some writers end with a single zero block or none; a truncated header is still an error.
    if (this.state.kind === 'header' && this.pending.length > 0 && this.pending.some((b) => b !== 0)) {
      throw new TarFormatError('the tar archive is truncated')
    }
  }

  private consume(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    this.pending = Buffer.alloc(0)
    while (buf.length > 0) {
      const s = this.state
      if (s.kind === 'done') return // trailing zero padding after the end marker
      if (s.kind === 'header') {
        if (buf.length < BLOCK) {
          this.pending = Buffer.from(buf)
          return
        }
        this.header(buf.subarray(0, BLOCK))
        buf = buf.subarray(BLOCK)
        continue
      }
      if (s.kind === 'skip') {
        const n = Math.min(s.remaining, buf.length)
        s.remaining -= n
        buf = buf.subarray(n)
        if (s.remaining === 0) this.state = { kind: 'header' }
        continue
      }
      if (s.kind === 'meta') {
        const n = Math.min(s.remaining, buf.length)
        s.chunks.push(Buffer.from(buf.subarray(0, n)))
        s.remaining -= n
        buf = buf.subarray(n)
        if (s.remaining === 0) {
          this.meta(s.flag, Buffer.concat(s.chunks))
          this.state = s.padding ? { kind: 'skip', remaining: s.padding } : { kind: 'header' }
        }
        continue
      }
      // data
      const n = Math.min(s.remaining, buf.length)
      if (n > 0 && s.wanted) this.handlers.onData?.(s.entry, buf.subarray(0, n))
      s.remaining -= n
      buf = buf.subarray(n)
      if (s.remaining === 0) {
        this.handlers.onEntryEnd?.(s.entry)
        this.state = s.padding ? { kind: 'skip', remaining: s.padding } : { kind: 'header' }
      }
    }
  }

  private header(block: Buffer): void {
    if (block.every((b) => b === 0)) {
      // Two zero blocks end the archive (one is tolerated at the very end by `end`).
      if (++this.zeroBlocks >= 2) this.state = { kind: 'done' }
      return
    }
    if (this.zeroBlocks > 0) throw new TarFormatError('data after a zero block in the tar archive')
    if (!checksumOk(block)) throw new TarFormatError('bad tar header checksum (not a tar archive, or a corrupt one)')
    const flag = String.fromCharCode(block[156]!)
    let size = parseNumber(block, 124, 12, 'size')
    const padding = (BLOCK - (size % BLOCK)) % BLOCK
    if (flag === 'L' || flag === 'K' || flag === 'x' || flag === 'g') {
      if (size > MAX_META_BYTES) throw new TarFormatError('oversized tar extended header')
      this.state = { kind: 'meta', flag, remaining: size, padding, chunks: [] }
      if (size === 0) {
        this.meta(flag, Buffer.alloc(0))
        this.state = { kind: 'header' }
      }
      return
    }
    const magic = block.subarray(257, 263).toString('latin1')
    let path = cstring(block, 0, 100)
    // POSIX ustar splits long paths into prefix + name; GNU ("ustar  ") uses those bytes otherwise.
    if (magic === 'ustar\0') {
      const prefix = cstring(block, 345, 155)
      if (prefix) path = `${prefix}/${path}`
    }
    let linkPath: string | undefined = cstring(block, 157, 100) || undefined
    if (this.longName !== undefined) path = this.longName
    if (this.longLink !== undefined) linkPath = this.longLink
    if (this.pax.path !== undefined) path = this.pax.path
    if (this.pax.linkpath !== undefined) linkPath = this.pax.linkpath
    if (this.pax.size !== undefined) {
      if (!/^\d+$/.test(this.pax.size)) throw new TarFormatError('malformed pax size')
      size = Number(this.pax.size)
    }
    this.longName = undefined
    this.longLink = undefined
    this.pax = {}
    const type = typeOf(flag)
    // Only regular files carry data we read; anything else with a size is skipped over.
    const entry: TarEntry = { path, type, flag, size, ...(linkPath !== undefined && type !== 'file' && type !== 'directory' ? { linkPath } : {}) }
    this.entries++
    const wanted = this.handlers.onEntry(entry)
    const pad = (BLOCK - (size % BLOCK)) % BLOCK
    if (size === 0) {
      this.handlers.onEntryEnd?.(entry)
      this.state = { kind: 'header' }
    } else {
      this.state = { kind: 'data', entry, remaining: size, padding: pad, wanted }
    }
  }

  private meta(flag: string, data: Buffer): void {
    if (flag === 'L') this.longName = cstring(data, 0, data.length)
    else if (flag === 'K') this.longLink = cstring(data, 0, data.length)
    else if (flag === 'x') this.pax = { ...this.pax, ...parsePax(data) }
    // 'g' (global pax) only carries defaults such as comments; a global path would be meaningless.
  }
}
