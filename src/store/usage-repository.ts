/**
 * The usage log's table: one row per chat request, written in batches by the usage log and read
 * by the admin API (totals grouped by key, model, provider or day; the request list).
 */
import type { RequestRecord } from '../core/request-record.ts'
import type { PageCursor } from './page-cursor.ts'
import {
  numberColumn,
  optionalNumberColumn,
  type SqlDriver,
  type SqlRow,
  type SqlValue,
  textColumn,
} from './sql-driver.ts'

export const usageGroups = ['key', 'model', 'provider', 'day'] as const
export type UsageGroup = (typeof usageGroups)[number]

export interface UsageQuery {
  /** Epoch milliseconds, inclusive. */
  from?: number | undefined
  /** Epoch milliseconds, exclusive. */
  to?: number | undefined
  groupBy?: UsageGroup | undefined
}

export interface UsageTotals {
  /** The key id, catalog model, provider or UTC day; undefined for the overall total. */
  group: string | undefined
  /** The key's name, when grouped by key. */
  keyName: string | undefined
  requests: number
  errors: number
  promptTokens: number
  completionTokens: number
  cachedTokens: number
  /** Requests whose token counts were estimated. */
  estimated: number
  cost: number
}

export interface LoggedRequest extends RequestRecord {
  id: string
}

export interface RequestQuery {
  limit: number
  /** Where the previous page ended. */
  before?: PageCursor | undefined
  keyId?: string | undefined
  /** Matches the model asked for or the catalog model. */
  model?: string | undefined
  status?: number | undefined
}

export interface UsageRepository {
  insert(records: readonly RequestRecord[]): Promise<void>
  summarize(query: UsageQuery): Promise<UsageTotals[]>
  /** What a key spent since a moment (epoch ms): seeds its budget period after a restart. */
  spentSince(keyId: string, from: number): Promise<number>
  /** Newest first. */
  listRequests(
    query: RequestQuery,
  ): Promise<{ requests: LoggedRequest[]; next: PageCursor | undefined }>
}

const insertColumns = [
  'started_at',
  'day',
  'request_id',
  'key_id',
  'key_name',
  'model',
  'model_id',
  'provider',
  'upstream_model',
  'stream',
  'status',
  'error_type',
  'error_code',
  'prompt_tokens',
  'completion_tokens',
  'cached_tokens',
  'usage_estimated',
  'cost',
  'latency_ms',
  'ttft_ms',
  'attempts',
  'cache_hit',
  'metadata',
]

// Whitelisted: the group expression is the only SQL built from a query parameter.
const groupColumns: Record<UsageGroup, string> = {
  key: 'key_id',
  model: 'COALESCE(model_id, model)',
  provider: 'provider',
  day: 'day',
}

export function createUsageRepository(driver: SqlDriver): UsageRepository {
  return {
    async insert(records) {
      if (records.length === 0) return
      const values: SqlValue[] = []
      for (const record of records) values.push(...rowValues(record))
      await driver.insertRows('usage_log', insertColumns, values)
    },

    async summarize({ from, to, groupBy }) {
      const { where, params } = timeRange(from, to)
      const group = groupBy === undefined ? undefined : groupColumns[groupBy]
      const rows = await driver.all(
        `SELECT ${group === undefined ? 'NULL' : group} AS group_value,
           ${groupBy === 'key' ? 'MAX(key_name)' : 'NULL'} AS key_name,
           COUNT(*) AS requests,
           SUM(CASE WHEN status >= 400 OR error_code IS NOT NULL THEN 1 ELSE 0 END) AS errors,
           SUM(prompt_tokens) AS prompt_tokens,
           SUM(completion_tokens) AS completion_tokens,
           SUM(cached_tokens) AS cached_tokens,
           SUM(usage_estimated) AS estimated,
           SUM(cost) AS cost
         FROM usage_log ${where}
         ${group === undefined ? '' : `GROUP BY ${group} ORDER BY ${groupBy === 'day' ? 'group_value' : 'cost DESC, group_value'}`}`,
        params,
      )
      return rows.map((row) => ({
        group: textColumn(row, 'group_value'),
        keyName: textColumn(row, 'key_name'),
        requests: numberColumn(row, 'requests'),
        errors: numberColumn(row, 'errors'),
        promptTokens: numberColumn(row, 'prompt_tokens'),
        completionTokens: numberColumn(row, 'completion_tokens'),
        cachedTokens: numberColumn(row, 'cached_tokens'),
        estimated: numberColumn(row, 'estimated'),
        cost: numberColumn(row, 'cost'),
      }))
    },

    async spentSince(keyId, from) {
      const rows = await driver.all(
        'SELECT COALESCE(SUM(cost), 0) AS cost FROM usage_log WHERE key_id = ? AND started_at >= ?',
        [keyId, from],
      )
      return rows[0] === undefined ? 0 : numberColumn(rows[0], 'cost')
    },

    async listRequests({ limit, before, keyId, model, status }) {
      const conditions: string[] = []
      const params: SqlValue[] = []
      if (before !== undefined) {
        conditions.push('(started_at < ? OR (started_at = ? AND id < ?))')
        params.push(before.time, before.time, Number(before.id) || 0)
      }
      if (keyId !== undefined) {
        conditions.push('key_id = ?')
        params.push(keyId)
      }
      if (model !== undefined) {
        conditions.push('(model = ? OR model_id = ?)')
        params.push(model, model)
      }
      if (status !== undefined) {
        conditions.push('status = ?')
        params.push(status)
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''
      const rows = await driver.all(
        `SELECT * FROM usage_log ${where} ORDER BY started_at DESC, id DESC LIMIT ?`,
        [...params, limit + 1],
      )
      const requests = rows.slice(0, limit).map(toLoggedRequest)
      const last = requests.at(-1)
      const next =
        rows.length > limit && last !== undefined
          ? { time: last.startedAt, id: last.id }
          : undefined
      return { requests, next }
    },
  }
}

function timeRange(from: number | undefined, to: number | undefined) {
  const conditions: string[] = []
  const params: SqlValue[] = []
  if (from !== undefined) {
    conditions.push('started_at >= ?')
    params.push(from)
  }
  if (to !== undefined) {
    conditions.push('started_at < ?')
    params.push(to)
  }
  return { where: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '', params }
}

const dayMs = 86_400_000
/** The UTC day of the last row written: formatting a date costs more than the rest of a row. */
let lastDay = { number: Number.NaN, text: '' }

function utcDay(time: number): string {
  const number = Math.floor(time / dayMs)
  if (number !== lastDay.number) {
    lastDay = { number, text: new Date(number * dayMs).toISOString().slice(0, 10) }
  }
  return lastDay.text
}

function rowValues(record: RequestRecord): SqlValue[] {
  return [
    Math.round(record.startedAt),
    utcDay(record.startedAt),
    record.requestId,
    record.keyId ?? null,
    record.keyName ?? null,
    record.model ?? null,
    record.modelId ?? null,
    record.provider ?? null,
    record.upstreamModel ?? null,
    record.stream ? 1 : 0,
    record.status,
    record.errorType ?? null,
    record.errorCode ?? null,
    record.promptTokens,
    record.completionTokens,
    record.cachedTokens,
    record.usageEstimated ? 1 : 0,
    record.cost,
    record.latencyMs,
    record.ttftMs ?? null,
    record.attempts,
    record.cacheHit ? 1 : 0,
    record.metadata === undefined ? null : JSON.stringify(record.metadata),
  ]
}

function toLoggedRequest(row: SqlRow): LoggedRequest {
  const metadata = textColumn(row, 'metadata')
  return {
    id: String(row.id),
    startedAt: numberColumn(row, 'started_at'),
    requestId: textColumn(row, 'request_id') ?? '',
    keyId: textColumn(row, 'key_id'),
    keyName: textColumn(row, 'key_name'),
    model: textColumn(row, 'model'),
    modelId: textColumn(row, 'model_id'),
    provider: textColumn(row, 'provider'),
    upstreamModel: textColumn(row, 'upstream_model'),
    stream: numberColumn(row, 'stream') === 1,
    status: numberColumn(row, 'status'),
    errorType: textColumn(row, 'error_type'),
    errorCode: textColumn(row, 'error_code'),
    promptTokens: numberColumn(row, 'prompt_tokens'),
    completionTokens: numberColumn(row, 'completion_tokens'),
    cachedTokens: numberColumn(row, 'cached_tokens'),
    usageEstimated: numberColumn(row, 'usage_estimated') === 1,
    cost: numberColumn(row, 'cost'),
    latencyMs: numberColumn(row, 'latency_ms'),
    ttftMs: optionalNumberColumn(row, 'ttft_ms'),
    attempts: numberColumn(row, 'attempts'),
    cacheHit: numberColumn(row, 'cache_hit') === 1,
    metadata: metadata === undefined ? undefined : (JSON.parse(metadata) as Record<string, string>),
  }
}
