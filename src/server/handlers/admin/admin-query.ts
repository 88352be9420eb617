/** Query-string parameters of the admin API, parsed once with OpenAI-shaped 400s naming them. */
import { GatewayError } from '../../../core/errors.ts'
import { decodeCursor, encodeCursor, type PageCursor } from '../../../store/page-cursor.ts'
import type { RequestContext } from '../../context.ts'

export function queryOf(context: RequestContext): URLSearchParams {
  const url = context.request.url ?? ''
  const at = url.indexOf('?')
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1))
}

export function limitParam(query: URLSearchParams, fallback: number, max: number): number {
  const text = query.get('limit')
  if (text === null) return fallback
  const limit = Number(text)
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw invalid('limit', `limit must be an integer from 1 to ${max}`)
  }
  return limit
}

export function cursorParam(query: URLSearchParams): PageCursor | undefined {
  const text = query.get('cursor')
  if (text === null || text === '') return undefined
  const cursor = decodeCursor(text)
  if (cursor === undefined) throw invalid('cursor', 'cursor is not one this API returned')
  return cursor
}

/** An ISO 8601 date (`2025-06-01`, UTC midnight) or date-time, as epoch milliseconds. */
export function timeParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name)
  if (text === null || text === '') return undefined
  const time = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(text)
    ? Date.parse(text)
    : Number.NaN
  if (Number.isNaN(time)) {
    throw invalid(
      name,
      `${name} must be an ISO 8601 date or date-time with offset, e.g. 2025-06-01 or 2025-06-01T12:00:00Z`,
    )
  }
  return time
}

export function integerParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name)
  if (text === null || text === '') return undefined
  const value = Number(text)
  if (!Number.isInteger(value)) throw invalid(name, `${name} must be an integer`)
  return value
}

export function textParam(query: URLSearchParams, name: string): string | undefined {
  const text = query.get(name)
  return text === null || text === '' ? undefined : text
}

export function invalid(param: string, message: string): GatewayError {
  return new GatewayError('invalid_request', message, { param })
}

/** One page of a list, in the OpenAI list shape with the cursor of the next page. */
export function listPage<Item>(data: Item[], next: PageCursor | undefined) {
  return {
    object: 'list',
    data,
    has_more: next !== undefined,
    next_cursor: next === undefined ? null : encodeCursor(next),
  }
}
