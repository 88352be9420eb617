/**
 * Rewrites the top-level `"model"` of a serialised chunk without parsing it. Inside JSON strings
 * every quote is escaped, so an unescaped `"model":"` can only be a key; chunks have one.
 */
const modelField = /"model"\s*:\s*"(?:[^"\\]|\\.)*"/

export function rewriteModel(data: string, model: string): string {
  const match = modelField.exec(data)
  if (match === null) return data
  return `${data.slice(0, match.index)}"model":${JSON.stringify(model)}${data.slice(match.index + match[0].length)}`
}
