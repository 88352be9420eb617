/**
 * Strings that end up in `JSON.stringify` on every request are kept flat.
 *
 * V8 keeps some strings as views of others: `a + b` (or a template) longer than 12 characters is a
 * rope (a pair of pointers to its parts), and a slice of 13 characters or more, as the YAML
 * parser makes of every config value, points into the whole config text. One such string anywhere
 * in an object sends V8's `JSON.stringify` down its slow path for the whole object: an access line
 * with a 17-character upstream model name from the config took 2.5x as long to serialise as with
 * a flat copy, and a completion whose `id` was `chatcmpl-${upstreamId}` 1.7x.
 */

/** `first + second` as one flat string: `Array.prototype.join` copies its parts. */
export function joinFlat(first: string, second: string): string {
  return [first, second].join('')
}

/** Plain data (parsed YAML or JSON) with every string value replaced by a flat copy. */
export function flattenStrings(value: unknown): unknown {
  if (typeof value === 'string') return JSON.parse(JSON.stringify(value)) as string
  if (Array.isArray(value)) return value.map(flattenStrings)
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) result[key] = flattenStrings(item)
    return result
  }
  return value
}
