/**
 * Opaque cursors for newest-first or oldest-first pages ordered by (time, id): stable while rows
 * are added, unlike offsets.
 */
export interface PageCursor {
  time: number
  id: string
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(`${cursor.time}:${cursor.id}`).toString('base64url')
}

/** Undefined when the text is not a cursor we made. */
export function decodeCursor(text: string): PageCursor | undefined {
  const decoded = Buffer.from(text, 'base64url').toString('utf8')
  const separator = decoded.indexOf(':')
  if (separator <= 0) return undefined
  const time = Number(decoded.slice(0, separator))
  const id = decoded.slice(separator + 1)
  if (!Number.isSafeInteger(time) || id.length === 0) return undefined
  return { time, id }
}
