/**
 * Rewrites the top-level `"model"` of a serialised chunk without parsing it. Inside JSON strings
 * every quote is escaped, so an unescaped `"model":"` can only be a key; chunks have one.
 */
const modelField = /"model"\s*:\s*"(?:[^"\\]|\\.)*"/

/** The field as it is written back: built once per answer or stream, not per chunk. */
export function modelFieldFor(model: string): string {
  return `"model":${JSON.stringify(model)}`
}

/** `field` is `modelFieldFor(model)`. */
export function rewriteModel(data: string, field: string): string {
  const match = modelField.exec(data)
  if (match === null) return data
  return `${data.slice(0, match.index)}${field}${data.slice(match.index + match[0].length)}`
}

/**
 * `rewriteModel` for the chunks of one stream, which an upstream writes alike: the field found in
 * one chunk is looked for at the same place in the next, and the chunk is searched only when it is
 * not there. The field found ends with its closing quote, so a longer or different value there
 * does not match.
 */
export class StreamModelRewriter {
  readonly #field: string
  #found = ''
  #at = -1

  /** `field` is `modelFieldFor(model)`. */
  constructor(field: string) {
    this.#field = field
  }

  rewrite(data: string): string {
    if (this.#at === -1 || !data.startsWith(this.#found, this.#at)) {
      const match = modelField.exec(data)
      if (match === null) return data
      this.#found = match[0]
      this.#at = match.index
    }
    return `${data.slice(0, this.#at)}${this.#field}${data.slice(this.#at + this.#found.length)}`
  }
}

/**
 * Whether `data` has a key written as `"` + `tail` (`tail` being the name, its closing quote and
 * what follows). The search is for `tail`, whose first letter is rarer in JSON than the quote:
 * looking for `"` + `tail` stops at every quote of the chunk.
 */
export function hasKey(data: string, tail: string): boolean {
  let at = data.indexOf(tail, 1)
  while (at !== -1) {
    if (data.charCodeAt(at - 1) === 0x22) return true
    at = data.indexOf(tail, at + 1)
  }
  return false
}
