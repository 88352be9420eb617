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
