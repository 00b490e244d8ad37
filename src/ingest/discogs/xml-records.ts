/**
 * A streaming XML tokenizer specialised for the Discogs dumps: one root element (`<releases>` …) whose
 * children are the records. Bytes are fed in chunks; each record comes out as a small tree, so only one
 * record (plus one chunk) is ever held in memory.
 *
 * Why not a general SAX parser: saxes emits an event per tag, attribute and text node and validates
 * character classes, which costs several times more than the dumps need. The dumps are plain XML —
 * elements, double- or single-quoted attributes, the five named entities and numeric character
 * references, occasionally a prolog, comments or CDATA — and this reads exactly that, and reports
 * anything else as a syntax error with its position.
 *
 * It works on the UTF-8 bytes, not on decoded text: markup is ASCII, so tags are found by byte, element
 * and attribute names come from a small cache instead of being decoded again for every element, and only
 * text and attribute values are decoded (as Latin-1 when they are ASCII, which is most of them). Decoding
 * whole chunks into strings first cost more than the tokenizing itself. Offsets are byte offsets.
 *
 * A record that is cut by a chunk boundary is simply parsed again from its start once more bytes have
 * arrived: records are a few kilobytes and chunks hundreds, so the repeated work is small and the
 * parser keeps no state inside a record.
 */

export interface XmlNode {
  name: string
  attrs: Record<string, string> | null
  children: XmlNode[] | null
  /** the element's own text (entities decoded); only meaningful for leaf elements */
  text: string
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    /** offset (in bytes of UTF-8) within the input given to the parser since its start */
    readonly charOffset: number,
  ) {
    super(message)
  }
}

/** The character of the named entity s[start, end) (`amp`, `lt`, …), compared in place, not sliced out. */
function namedEntity(s: string, start: number, end: number): string | undefined {
  switch (end - start) {
    case 2:
      return s.startsWith('lt', start) ? '<' : s.startsWith('gt', start) ? '>' : undefined
    case 3:
      return s.startsWith('amp', start) ? '&' : undefined
    case 4:
      return s.startsWith('quot', start) ? '"' : s.startsWith('apos', start) ? "'" : undefined
  }
  return undefined
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102)
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122)
}

/**
 * Decodes `&name;`, `&#n;` and `&#xh;`. A reference that is not one of those, names no known entity or
 * no valid code point is kept as written rather than failing a whole dump on it. A loop over indexOf
 * rather than a replace with a callback: text with entities is common in the dumps (`&amp;`, accents as
 * `&#228;`), and this ran at a fifth of the parser's cost.
 */
export function decodeEntities(s: string): string {
  let amp = s.indexOf('&')
  if (amp < 0) return s
  let out = ''
  let from = 0
  const n = s.length
  while (amp >= 0) {
    let i = amp + 1
    let value: string | undefined
    if (i < n && s.charCodeAt(i) === 35 /* # */) {
      const hex = i + 1 < n && s.charCodeAt(i + 1) === 120 /* x */
      const start = (i += hex ? 2 : 1)
      // The code point is read as its digits go by (no slice to parse); one that is too large only grows.
      let code = 0
      for (; i < n; i++) {
        const d = s.charCodeAt(i)
        if (d >= 48 && d <= 57) code = code * (hex ? 16 : 10) + (d - 48)
        else if (hex && isHexDigit(d)) code = code * 16 + ((d | 0x20) - 87)
        else break
      }
      if (i > start && i < n && s.charCodeAt(i) === 59 /* ; */ && code > 0 && code <= 0x10ffff)
        value = code < 0x10000 ? String.fromCharCode(code) : String.fromCodePoint(code)
    } else if (i < n && (s.charCodeAt(i) | 0x20) >= 97 && (s.charCodeAt(i) | 0x20) <= 122) {
      const start = i
      while (i < n && isAlnum(s.charCodeAt(i))) i++
      if (i < n && s.charCodeAt(i) === 59) value = namedEntity(s, start, i)
    }
    if (value !== undefined) {
      out += s.slice(from, amp) + value
      from = i + 1
      amp = s.indexOf('&', from)
    } else amp = s.indexOf('&', amp + 1)
  }
  return from === 0 ? s : out + s.slice(from)
}

const enum C {
  LT = 60,
  GT = 62,
  SLASH = 47,
  BANG = 33,
  QUESTION = 63,
  EQ = 61,
  DQ = 34,
  SQ = 39,
  SPACE = 32,
  TAB = 9,
  LF = 10,
  CR = 13,
  AMP = 38,
}

function isSpace(c: number): boolean {
  return c === C.SPACE || c === C.LF || c === C.CR || c === C.TAB
}

/** Node's native slicers (Buffer.prototype, not in its type declarations): no argument normalisation. */
interface Slicers {
  latin1Slice(start: number, end: number): string
  utf8Slice(start: number, end: number): string
}

/**
 * Text of b[start, end): Latin-1 is exact (and cheaper) when every byte is ASCII. Values are not cached
 * as names are: in the parse worker's small young generation, a table of recent strings costs more in
 * write barriers and scavenges than the strings it saves (measured with bench:parse).
 */
function decode(b: Buffer, start: number, end: number, ascii: boolean): string {
  const s = b as unknown as Slicers
  if (!ascii) return s.utf8Slice(start, end)
  // Short values (ids, positions, durations, quantities) are built here: the call into C++ costs more
  // than they do.
  switch (end - start) {
    case 0:
      return ''
    case 1:
      return String.fromCharCode(b[start])
    case 2:
      return String.fromCharCode(b[start], b[start + 1])
    case 3:
      return String.fromCharCode(b[start], b[start + 1], b[start + 2])
    case 4:
      return String.fromCharCode(b[start], b[start + 1], b[start + 2], b[start + 3])
    case 5:
      return String.fromCharCode(b[start], b[start + 1], b[start + 2], b[start + 3], b[start + 4])
    case 6:
      return String.fromCharCode(
        b[start],
        b[start + 1],
        b[start + 2],
        b[start + 3],
        b[start + 4],
        b[start + 5],
      )
    case 7:
      return String.fromCharCode(
        b[start],
        b[start + 1],
        b[start + 2],
        b[start + 3],
        b[start + 4],
        b[start + 5],
        b[start + 6],
      )
    case 8:
      return String.fromCharCode(
        b[start],
        b[start + 1],
        b[start + 2],
        b[start + 3],
        b[start + 4],
        b[start + 5],
        b[start + 6],
        b[start + 7],
      )
  }
  return s.latin1Slice(start, end)
}

/**
 * Names seen so far, in an open-addressing table keyed by a hash of their bytes: a dump uses a few dozen
 * names millions of times. Not a Map: its lookup cost as much as hashing and comparing the bytes.
 */
const NAME_SLOT_BITS = 12
const NAME_SLOTS: (string | undefined)[] = new Array<string | undefined>(1 << NAME_SLOT_BITS).fill(undefined)
/** names stored; past half the slots, new names are decoded every time (probing would get long) */
let namesStored = 0

/** The hash nameAt() takes: of a name's bytes, folded in one at a time as the name is read. */
function hashStep(h: number, c: number): number {
  return (Math.imul(h, 31) + c) | 0
}

/** The name at b[start, end), whose bytes hash to h (hashStep). */
function nameAt(b: Buffer, start: number, end: number, h: number): string {
  const length = end - start
  const mask = (1 << NAME_SLOT_BITS) - 1
  for (let slot = Math.imul(h, 0x9e3779b1) >>> (32 - NAME_SLOT_BITS); ; slot = (slot + 1) & mask) {
    const hit = NAME_SLOTS[slot]
    if (hit === undefined) {
      const s = decode(b, start, end, false)
      if (namesStored < NAME_SLOTS.length >> 1) {
        NAME_SLOTS[slot] = s
        namesStored++
      }
      return s
    }
    if (hit.length !== length) continue
    let k = 0
    while (k < length && hit.charCodeAt(k) === b[start + k]) k++
    if (k === length) return hit
  }
}

function startsWith(b: Buffer, i: number, ascii: string): boolean {
  if (i + ascii.length > b.length) return false
  for (let k = 0; k < ascii.length; k++) if (b[i + k] !== ascii.charCodeAt(k)) return false
  return true
}

/** Index of `ascii` in b at or after `from`, or -1. */
function find(b: Buffer, ascii: string, from: number): number {
  return b.indexOf(ascii, from, 'latin1')
}

/** The hash of the name that nameEnd() last read whole (a module variable: no object per tag to return it). */
let endedNameHash = 0

/**
 * Ends of a tag name: whitespace, '/', '>'; -1 when the input ends first, -2 on a character no name has.
 * The name's hash is left in endedNameHash, so that nameAt() need not read it again.
 */
function nameEnd(b: Buffer, i: number): number {
  const n = b.length
  let h = 0
  while (i < n) {
    const c = b[i]
    if (c === C.GT || c === C.SLASH || isSpace(c)) {
      endedNameHash = h
      return i
    }
    if (c === C.LT || c === C.EQ || c === C.DQ || c === C.SQ) return -2
    h = hashStep(h, c)
    i++
  }
  return -1
}

export type RecordEvent =
  | { kind: 'root'; name: string }
  /** a child of the root; when scanning, `node` carries only its name */
  | { kind: 'record'; node: XmlNode; start: number; end: number }
  | { kind: 'end' }

export interface XmlRecordReaderOptions {
  /**
   * Check records exactly as parsing does (same errors, same offsets) but build no tree: for cutting
   * input into runs of whole records that are parsed elsewhere (record-segments.ts).
   */
  scan?: boolean
  /**
   * Read a run of records cut out of a document by a scanning reader: its root is already open, and
   * offsets count from `offset`, where the run sits in that document.
   */
  fragmentOf?: { root: string; offset: number }
}

/** Largest record accepted: beyond this an unclosed element is far likelier than a real record. */
export const MAX_RECORD_CHARS = 64 << 20

const EMPTY = Buffer.alloc(0)

/**
 * Splits fed input into the root element and its record elements. `feed()` appends bytes (a string is
 * taken as its UTF-8); `next()` returns the next complete event or null when more input is needed.
 * Offsets are byte offsets since the first input fed.
 */
export class XmlRecordReader {
  private buf: Buffer = EMPTY
  private pos = 0
  /** bytes discarded from the front of buf so far (plus a fragment's offset) */
  private base = 0
  private root: string | null = null
  private ended = false
  private readonly build: boolean

  constructor(options: XmlRecordReaderOptions = {}) {
    this.build = !options.scan
    if (options.fragmentOf) {
      this.root = options.fragmentOf.root
      this.base = options.fragmentOf.offset
    }
  }

  feed(input: Uint8Array | string): void {
    const b =
      typeof input === 'string'
        ? Buffer.from(input, 'utf8')
        : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
    if (this.pos >= this.buf.length) {
      this.base += this.buf.length
      this.buf = b
    } else {
      this.base += this.pos
      this.buf = Buffer.concat([this.buf.subarray(this.pos), b])
    }
    this.pos = 0
  }

  /** Byte offset (since the start) of the next unread byte. */
  get offset(): number {
    return this.base + this.pos
  }

  /** Offsets are bytes already; kept so that callers need not know. */
  byteOffsetOf(offset: number): number {
    return offset
  }

  get rootName(): string | null {
    return this.root
  }

  get done(): boolean {
    return this.ended
  }

  /**
   * The fed bytes between two offsets (a view, valid until the next feed), e.g. of records that next()
   * returned since the last feed.
   */
  slice(start: number, end: number): Buffer {
    return this.buf.subarray(start - this.base, end - this.base)
  }

  /** Input that has been fed but not yet consumed, as text (for error reports). */
  get pending(): string {
    return this.buf.toString('utf8', this.pos)
  }

  next(): RecordEvent | null {
    const b = this.buf
    for (;;) {
      if (this.ended) {
        // Only whitespace, comments and processing instructions may follow the root.
        const i = this.skipMisc(b, this.pos)
        if (i < 0) return null
        this.pos = i
        if (i < b.length) throw new XmlSyntaxError('content after the end of the root element', this.base + i)
        return null
      }
      const i = this.skipMisc(b, this.pos)
      if (i < 0) return null
      this.pos = i
      if (i >= b.length) return null
      if (b[i] !== C.LT) {
        if (this.root === null)
          throw new XmlSyntaxError('not XML: expected "<" at the start of the document', this.base + i)
        // Stray text between records is tolerated (mixed content is legal XML); skip it.
        const lt = b.indexOf(C.LT, i)
        if (lt < 0) {
          this.pos = b.length
          return null
        }
        this.pos = lt
        continue
      }
      if (this.root === null) {
        const ne = nameEnd(b, i + 1)
        if (ne === -1) return null
        if (ne === -2 || ne === i + 1) throw new XmlSyntaxError('malformed root element', this.base + i)
        const gt = b.indexOf(C.GT, ne)
        if (gt < 0) return null
        this.root = nameAt(b, i + 1, ne, endedNameHash)
        this.pos = gt + 1
        if (b[gt - 1] === C.SLASH) this.ended = true
        return { kind: 'root', name: this.root }
      }
      if (i + 1 >= b.length) return null
      if (b[i + 1] === C.SLASH) {
        const gt = b.indexOf(C.GT, i)
        if (gt < 0) return null
        const name = b.toString('utf8', i + 2, gt).trim()
        if (name !== this.root)
          throw new XmlSyntaxError(`</${name}> does not close <${this.root}>`, this.base + i)
        this.pos = gt + 1
        this.ended = true
        return { kind: 'end' }
      }
      const r = parseElementAt(b, i, this.base, this.build)
      if (r === null) {
        if (b.length - i > MAX_RECORD_CHARS) {
          const name = b.toString('utf8', i + 1, Math.min(b.length, i + 30)).split(/[\s>/]/)[0]
          throw new XmlSyntaxError(
            `a <${name}> record runs past ${MAX_RECORD_CHARS >> 20} MB without closing`,
            this.base + i,
          )
        }
        return null
      }
      this.pos = r.end
      return { kind: 'record', node: r.node, start: this.base + i, end: this.base + r.end }
    }
  }

  /** Skips whitespace, comments, processing instructions and a doctype; -1 when cut off. */
  private skipMisc(b: Buffer, i: number): number {
    const n = b.length
    for (;;) {
      while (i < n && isSpace(b[i])) i++
      if (i >= n) return i
      if (i === 0 && this.base === 0 && b[0] === 0xef) {
        if (n < 3) return -1
        if (b[1] === 0xbb && b[2] === 0xbf) {
          i = 3 // UTF-8 byte order mark
          continue
        }
      }
      if (b[i] !== C.LT) return i
      if (i + 1 >= n) return -1
      const c = b[i + 1]
      if (c === C.QUESTION) {
        const e = find(b, '?>', i + 2)
        if (e < 0) return -1
        i = e + 2
      } else if (c === C.BANG) {
        if (i + 4 > n) return -1
        if (startsWith(b, i, '<!--')) {
          const e = find(b, '-->', i + 4)
          if (e < 0) return -1
          i = e + 3
        } else {
          const e = b.indexOf(C.GT, i)
          if (e < 0) return -1
          i = e + 1
        }
      } else {
        return i
      }
    }
  }
}

/**
 * Parses one element starting at `<` into a tree. Returns null when the input ends before the element
 * does (the caller feeds more and retries from the same start). `end` is an offset in the same unit as
 * `start`: bytes for a Buffer, characters for a string (which is parsed as its UTF-8).
 */
export function parseElement(
  s: string | Buffer,
  start: number,
  base = 0,
): { node: XmlNode; end: number } | null {
  if (typeof s !== 'string') return parseElementAt(s, start, base)
  const from = Buffer.byteLength(s.slice(0, start))
  const b = Buffer.from(s, 'utf8')
  const r = parseElementAt(b, from, base)
  return r && { node: r.node, end: start + b.toString('utf8', from, r.end).length }
}

/** Name of the element whose name sits at b[start, start + length), for messages. */
function nameIn(b: Buffer, start: number, length: number): string {
  return b.toString('utf8', start, start + length)
}

/** The name of the start tag at b[tagStart] ('<'), ending at nameEnd: for error messages only. */
function startTagName(b: Buffer, tagStart: number, nameEnd: number): string {
  return nameIn(b, tagStart + 1, nameEnd - tagStart - 1)
}

function parseElementAt(
  b: Buffer,
  start: number,
  base: number,
  build = true,
): { node: XmlNode; end: number } | null {
  const n = b.length
  /** the open elements (when building) */
  const stack: XmlNode[] = []
  /** where each open element's name sits in b, to check its end tag without decoding it */
  const nameStart: number[] = []
  const nameLength: number[] = []
  let root: XmlNode | null = null
  let i = start
  for (;;) {
    if (i >= n) return null
    if (b[i] !== C.LT) {
      // Text up to the next tag; note whether it is all ASCII and whether it has entities.
      let j = i
      let high = 0
      let amp = false
      for (; j < n; j++) {
        const c = b[j]
        if (c === C.LT) break
        high |= c
        if (c === C.AMP) amp = true
      }
      if (j >= n) return null
      if (build) {
        const top = stack[stack.length - 1]
        let raw = decode(b, i, j, high < 0x80)
        if (amp) raw = decodeEntities(raw)
        top.text = top.text === '' ? raw : top.text + raw
      }
      i = j
      continue
    }
    if (i + 1 >= n) return null
    const c = b[i + 1]
    if (c === C.SLASH) {
      const ns = nameStart[nameStart.length - 1]
      const nl = nameLength[nameLength.length - 1]
      // Almost every end tag is exactly </name>: checked in place, without a search for its '>'.
      let gt = i + 2 + nl
      let k = 0
      if (gt < n && b[gt] === C.GT) while (k < nl && b[i + 2 + k] === b[ns + k]) k++
      if (k !== nl || nl === 0) {
        // Anything else (spaces before '>', another name, a cut-off tag) is read the long way.
        gt = b.indexOf(C.GT, i + 2)
        if (gt < 0) return null
        let e = gt
        while (e > i + 2 && isSpace(b[e - 1])) e--
        let same = e - (i + 2) === nl
        for (let k = 0; same && k < nl; k++) same = b[i + 2 + k] === b[ns + k]
        if (!same)
          throw new XmlSyntaxError(
            `</${b.toString('utf8', i + 2, gt)}> does not close <${nameIn(b, ns, nl)}>`,
            base + i,
          )
      }
      nameStart.pop()
      nameLength.pop()
      const top = build ? stack.pop()! : null
      i = gt + 1
      if (nameStart.length === 0) return { node: build ? top! : root!, end: i }
      continue
    }
    if (c === C.BANG) {
      if (startsWith(b, i, '<![CDATA[')) {
        const e = find(b, ']]>', i + 9)
        if (e < 0) return null
        if (nameStart.length === 0) throw new XmlSyntaxError('CDATA outside an element', base + i)
        if (build) stack[stack.length - 1].text += b.toString('utf8', i + 9, e)
        i = e + 3
        continue
      }
      if (startsWith(b, i, '<!--')) {
        const e = find(b, '-->', i + 4)
        if (e < 0) return null
        i = e + 3
        continue
      }
      if (n - i < 9) return null
      throw new XmlSyntaxError('unexpected "<!"', base + i)
    }
    if (c === C.QUESTION) {
      const e = find(b, '?>', i + 2)
      if (e < 0) return null
      i = e + 2
      continue
    }
    // start tag
    const tagStart = i
    const ne = nameEnd(b, i + 1)
    if (ne === -1) return null
    if (ne === -2 || ne === i + 1) throw new XmlSyntaxError('malformed start tag', base + i)
    const nameHash = endedNameHash
    // Messages name the tag by decoding it again rather than through a closure made here: under tsx
    // (esbuild's keepNames) every named closure costs an Object.defineProperty call, one per start tag,
    // which was half the parse time.
    const node: XmlNode | null = build
      ? { name: nameAt(b, i + 1, ne, nameHash), attrs: null, children: null, text: '' }
      : null
    let j = ne
    let selfClosing = false
    for (;;) {
      while (j < n && isSpace(b[j])) j++
      if (j >= n) return null
      const d = b[j]
      if (d === C.GT) {
        j++
        break
      }
      if (d === C.SLASH) {
        if (j + 1 >= n) return null
        if (b[j + 1] !== C.GT)
          throw new XmlSyntaxError(`malformed tag <${startTagName(b, tagStart, ne)}>`, base + j)
        selfClosing = true
        j += 2
        break
      }
      // attribute name="value"
      let k = j
      let attrHash = 0
      while (k < n) {
        const e = b[k]
        if (e === C.EQ || isSpace(e) || e === C.GT || e === C.SLASH || e === C.LT || e === C.DQ || e === C.SQ)
          break
        attrHash = hashStep(attrHash, e)
        k++
      }
      let eq = k
      while (eq < n && isSpace(b[eq])) eq++
      if (eq >= n) return null
      if (k === j || b[eq] !== C.EQ)
        throw new XmlSyntaxError(`malformed attribute in <${startTagName(b, tagStart, ne)}>`, base + j)
      let q = eq + 1
      while (q < n && isSpace(b[q])) q++
      if (q >= n) return null
      const quote = b[q]
      if (quote !== C.DQ && quote !== C.SQ)
        throw new XmlSyntaxError(
          `unquoted attribute ${nameIn(b, j, k - j)} in <${startTagName(b, tagStart, ne)}>`,
          base + q,
        )
      let close = q + 1
      let high = 0
      let amp = false
      for (; close < n; close++) {
        const e = b[close]
        if (e === quote) break
        if (e === C.LT)
          throw new XmlSyntaxError(
            `"<" in attribute ${nameIn(b, j, k - j)} of <${startTagName(b, tagStart, ne)}>`,
            base + q,
          )
        high |= e
        if (e === C.AMP) amp = true
      }
      if (close >= n) return null
      if (node) {
        const raw = decode(b, q + 1, close, high < 0x80)
        ;(node.attrs ??= {})[nameAt(b, j, k, attrHash)] = amp ? decodeEntities(raw) : raw
      }
      j = close + 1
    }
    if (node && stack.length > 0) {
      const parent = stack[stack.length - 1]
      ;(parent.children ??= []).push(node)
    }
    if (!build && nameStart.length === 0)
      root = { name: nameAt(b, i + 1, ne, nameHash), attrs: null, children: null, text: '' }
    i = j
    if (selfClosing) {
      if (nameStart.length === 0) return { node: node ?? root!, end: i }
    } else {
      if (node) stack.push(node)
      nameStart.push(tagStart + 1)
      nameLength.push(ne - tagStart - 1)
    }
  }
}
