/**
 * The client's request body forwarded as the client wrote it, with only the top-level `model`
 * value replaced: no second serialisation of a body that passes through unchanged. Serialising
 * it again costs about three copies of the body (a 50 KB prompt: about 150k instructions), where
 * this walk skips every string with `indexOf` and looks only at the structure between them.
 *
 * The upstream must see the model the route names, never the one the client asked for: a body
 * whose top-level `model` key could be read two ways answers `undefined`, and the caller
 * serialises the parsed request instead. That is the case when no top-level key is written
 * literally as `"model"` with a string value, or when the text has more top-level keys than the
 * parsed object (a repeated key, perhaps written with escapes, which a parser resolves as it likes).
 */

/** `text` with its top-level `model` string replaced by `model`, or undefined (see above). */
export function withUpstreamModel(text: string, parsed: object, model: string): string | undefined {
  let depth = 0
  let expectKey = false
  let topKeys = 0
  let valueStart = -1
  let valueEnd = -1
  let at = 0
  while (at < text.length) {
    const char = text.charCodeAt(at)
    if (char === quote) {
      const end = stringEnd(text, at)
      if (end === -1) return undefined
      if (depth === 1 && expectKey) {
        expectKey = false
        topKeys++
        if (end - at === 7 && text.startsWith('"model"', at)) {
          const value = skipSpace(text, skipSpace(text, end) + 1)
          if (text.charCodeAt(skipSpace(text, end)) !== colon || text.charCodeAt(value) !== quote) {
            return undefined
          }
          valueStart = value
          valueEnd = stringEnd(text, value)
          if (valueEnd === -1) return undefined
          at = valueEnd
          continue
        }
      }
      at = end
      continue
    }
    if (char === openBrace) {
      depth++
      if (depth === 1) expectKey = true
    } else if (char === openBracket) depth++
    else if (char === closeBrace || char === closeBracket) depth--
    else if (char === comma && depth === 1) expectKey = true
    at++
  }
  if (valueStart === -1 || topKeys !== Object.keys(parsed).length) return undefined
  return `${text.slice(0, valueStart)}${JSON.stringify(model)}${text.slice(valueEnd)}`
}

const quote = 0x22
const colon = 0x3a
const comma = 0x2c
const openBrace = 0x7b
const closeBrace = 0x7d
const openBracket = 0x5b
const closeBracket = 0x5d
const backslash = 0x5c

/** The index just past the string whose opening quote is at `open`, or -1 when it does not close. */
function stringEnd(text: string, open: number): number {
  let from = open + 1
  for (;;) {
    const close = text.indexOf('"', from)
    if (close === -1) return -1
    let backslashes = 0
    while (text.charCodeAt(close - 1 - backslashes) === backslash) backslashes++
    if (backslashes % 2 === 0) return close + 1
    from = close + 1
  }
}

function skipSpace(text: string, from: number): number {
  let at = from
  for (;;) {
    const char = text.charCodeAt(at)
    if (char !== 0x20 && char !== 0x0a && char !== 0x0d && char !== 0x09) return at
    at++
  }
}
