/** `/admin/usage` (totals, optionally grouped) and `/admin/requests` (the log, newest first). */

import type {
  LoggedRequest,
  UsageRepository,
  UsageTotals,
} from '../../../store/usage-repository.ts'
import { type UsageGroup, usageGroups } from '../../../store/usage-repository.ts'
import type { RequestContext } from '../../context.ts'
import { sendJson } from '../../respond.ts'
import {
  cursorParam,
  integerParam,
  invalid,
  limitParam,
  listPage,
  queryOf,
  textParam,
  timeParam,
} from './admin-query.ts'

const groupFields: Record<UsageGroup, string> = {
  key: 'key_id',
  model: 'model',
  provider: 'provider',
  day: 'day',
}

export function createUsageHandlers(usage: UsageRepository) {
  return {
    async summary(context: RequestContext): Promise<void> {
      const query = queryOf(context)
      const from = timeParam(query, 'from')
      const to = timeParam(query, 'to')
      const groupText = textParam(query, 'group_by')
      if (groupText !== undefined && !(usageGroups as readonly string[]).includes(groupText)) {
        throw invalid('group_by', `group_by must be one of ${usageGroups.join(', ')}`)
      }
      const groupBy = groupText as UsageGroup | undefined
      const rows = await usage.summarize({ from, to, groupBy })
      const total = groupBy === undefined ? rows[0] : addUp(rows)
      sendJson(context, 200, {
        object: 'usage',
        from: from === undefined ? null : new Date(from).toISOString(),
        to: to === undefined ? null : new Date(to).toISOString(),
        group_by: groupBy ?? null,
        data:
          groupBy === undefined
            ? []
            : rows.map((row) => ({
                [groupFields[groupBy]]: row.group ?? null,
                ...(groupBy === 'key' ? { key_name: row.keyName ?? null } : {}),
                ...totalsView(row),
              })),
        total: totalsView(total ?? addUp([])),
      })
    },

    async requests(context: RequestContext): Promise<void> {
      const query = queryOf(context)
      const page = await usage.listRequests({
        limit: limitParam(query, 50, 500),
        before: cursorParam(query),
        keyId: textParam(query, 'key'),
        model: textParam(query, 'model'),
        status: integerParam(query, 'status'),
      })
      sendJson(context, 200, listPage(page.requests.map(requestView), page.next))
    },
  }
}

function addUp(rows: readonly UsageTotals[]): UsageTotals {
  const total: UsageTotals = {
    group: undefined,
    keyName: undefined,
    requests: 0,
    errors: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedTokens: 0,
    estimated: 0,
    cost: 0,
  }
  for (const row of rows) {
    total.requests += row.requests
    total.errors += row.errors
    total.promptTokens += row.promptTokens
    total.completionTokens += row.completionTokens
    total.cachedTokens += row.cachedTokens
    total.estimated += row.estimated
    total.cost += row.cost
  }
  return total
}

function totalsView(totals: UsageTotals) {
  return {
    requests: totals.requests,
    errors: totals.errors,
    prompt_tokens: totals.promptTokens,
    completion_tokens: totals.completionTokens,
    cached_tokens: totals.cachedTokens,
    total_tokens: totals.promptTokens + totals.completionTokens,
    estimated_requests: totals.estimated,
    cost: totals.cost,
  }
}

function requestView(request: LoggedRequest) {
  return {
    id: request.id,
    object: 'request',
    created_at: new Date(request.startedAt).toISOString(),
    request_id: request.requestId,
    key_id: request.keyId ?? null,
    key_name: request.keyName ?? null,
    model: request.model ?? null,
    model_id: request.modelId ?? null,
    provider: request.provider ?? null,
    upstream_model: request.upstreamModel ?? null,
    stream: request.stream,
    status: request.status,
    error_type: request.errorType ?? null,
    error_code: request.errorCode ?? null,
    prompt_tokens: request.promptTokens,
    completion_tokens: request.completionTokens,
    cached_tokens: request.cachedTokens,
    usage_estimated: request.usageEstimated,
    cost: request.cost,
    latency_ms: request.latencyMs,
    ttft_ms: request.ttftMs ?? null,
    attempts: request.attempts,
    cache_hit: request.cacheHit,
    metadata: request.metadata ?? null,
  }
}
