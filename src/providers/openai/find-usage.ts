/**
 * The top-level `usage` of a serialised chat completion, read without parsing the rest of it: a
 * pass-through answer is forwarded as the upstream's own text, so only its usage object is parsed.
 * Inside JSON strings every quote is escaped, so an unescaped `"usage":` can only be a key, and a
 * chat completion has one. Whatever does not look exactly like that answers `undefined`, and the
 * caller parses the whole body instead.
 */
import type { CompletionUsage } from '../../core/chat.ts'

export type FoundUsage = { usage: CompletionUsage | null } | undefined

export function findUsage(text: string): FoundUsage {
  const key = text.lastIndexOf('"usage"')
  if (key === -1) return { usage: null }
  let at = skipSpace(text, key + 7)
  if (text[at] !== ':') return undefined
  at = skipSpace(text, at + 1)
  if (text.startsWith('null', at)) return { usage: null }
  if (text[at] !== '{') return undefined
  const end = objectEnd(text, at)
  if (end === -1) return undefined
  let usage: unknown
  try {
    usage = JSON.parse(text.slice(at, end))
  } catch {
    return undefined
  }
  const { prompt_tokens: prompt, completion_tokens: completion } = usage as Record<string, unknown>
  if (typeof prompt !== 'number' || typeof completion !== 'number') return undefined
  return { usage: usage as CompletionUsage }
}

function skipSpace(text: string, from: number): number {
  let at = from
  while (
    at < text.length &&
    (text[at] === ' ' || text[at] === '\n' || text[at] === '\r' || text[at] === '\t')
  )
    at++
  return at
}

/** The index just past the object opening at `start`, or -1 when it does not close. */
function objectEnd(text: string, start: number): number {
  let depth = 0
  let inString = false
  for (let at = start; at < text.length; at++) {
    const char = text.charCodeAt(at)
    if (inString) {
      if (char === 0x5c)
        at++ // a backslash escapes the next character
      else if (char === 0x22) inString = false
    } else if (char === 0x22) inString = true
    else if (char === 0x7b) depth++
    else if (char === 0x7d && --depth === 0) return at + 1
  }
  return -1
}
