/**
 * `POST /v1/chat/completions`: authenticate, read and validate the body, resolve the model, check
 * the key may use it, execute its route, then answer with JSON or a stream. What happened is
 * written into the request record that the usage log and metrics read when the request ends.
 */
import { CompletionAssembler } from '../../cache/assemble-completion.ts'
import { cacheKey } from '../../cache/cache-key.ts'
import {
  type CacheEntry,
  copyInto,
  entryText,
  forcesRefresh,
  readEntry,
  replayParts,
} from '../../cache/cached-answer.ts'
import { InFlightAnswers } from '../../cache/in-flight.ts'
import type { ChatRequest, CompletionUsage } from '../../core/chat.ts'
import { computeCost } from '../../core/cost.ts'
import { GatewayError } from '../../core/errors.ts'
import { RequestAbort } from '../../core/request-abort.ts'
import { emptyRecord, type RequestRecord } from '../../core/request-record.ts'
import { validateChatRequest } from '../../core/validate-chat-request.ts'
import type { Gateway } from '../../gateway.ts'
import { executeRoute, type RouteContext } from '../../routing/execute.ts'
import {
  type ChosenRoute,
  createRouter,
  readMetadata,
  readRequestTimeout,
} from '../../routing/router.ts'
import { completionText, estimateStreamUsage, estimateUsage } from '../../usage/estimate-usage.ts'
import { authenticate } from '../auth.ts'
import { readJson } from '../body.ts'
import type { RequestContext } from '../context.ts'
import { sendJson } from '../respond.ts'
import { writeEventStream } from '../sse.ts'

export function createChatCompletionsHandler(gateway: Gateway) {
  const bodyLimit = gateway.config.server.body_limit
  const router = createRouter(gateway.config, gateway.providers)
  const cacheSettings = gateway.config.cache
  const inFlight = new InFlightAnswers()

  return async function chatCompletions(context: RequestContext): Promise<void> {
    const record = emptyRecord(context.id, Date.now())
    context.record = record
    const key = await authenticate(context, gateway.keys)
    record.keyId = key.id
    record.keyName = key.name
    const body = await readJson(context.request, bodyLimit)
    const request: ChatRequest = validateChatRequest(body.value)
    record.model = context.log.model = request.model
    record.stream = context.log.stream = request.stream === true

    const metadata = readMetadata(context.request.headers)
    record.metadata = metadata
    const requestTimeoutMs = readRequestTimeout(context.request.headers)
    // A route chosen by the request's headers replaces the model's; it may name a model the
    // catalog does not list, as long as the key's allow-list covers it.
    const requestRoute = router.requestRoute(context.request.headers, key)
    const model = gateway.catalog.resolve(request.model)
    if (model === undefined && requestRoute === undefined) {
      throw new GatewayError('model_not_found', `The model '${request.model}' does not exist`, {
        param: 'model',
      })
    }
    const modelId = model?.id ?? request.model
    record.modelId = modelId
    if (!key.allows(modelId)) {
      throw new GatewayError(
        'model_not_allowed',
        `This API key may not use the model '${request.model}'`,
        { param: 'model' },
      )
    }
    await gateway.limiter.admit(key, request, record, context.headers)

    const route = requestRoute ?? router.modelRoute(modelId)!
    const { headers } = context
    const cachedAs = route.cache && cacheKey(key.id, route.cache, request)
    let settleFollowers: ((entry: string | undefined) => void) | undefined
    if (cachedAs !== undefined) {
      const refresh = forcesRefresh(context.request.headers)
      let entry = refresh ? undefined : await lookUp(cachedAs)
      // The same request already on its way upstream: an unstreamed one waits for its answer.
      const waits = entry === undefined && !refresh && !record.stream
      const leader = waits ? inFlight.follow(cachedAs) : undefined
      if (leader !== undefined) entry = readAnswer(await leader)
      headers['x-switchyard-cache'] = entry !== undefined ? 'hit' : refresh ? 'refresh' : 'miss'
      if (entry !== undefined) return answerFromCache(context, record, request, entry)
      settleFollowers = inFlight.lead(cachedAs)
    }
    // Only a route that caches pays for the closure.
    const keep =
      cachedAs === undefined
        ? undefined
        : (provider: string, upstreamModel: string, completionJson: string) => {
            if (completionJson.length > cacheSettings.max_entry_bytes) return
            const text = entryText(provider, upstreamModel, completionJson)
            gateway.responseCache().set(cachedAs, text, route.cache!.maxAgeMs)
            settleFollowers?.(text)
          }
    // A client that goes away cancels everything still in flight for it.
    const abort = new RequestAbort()
    const { response } = context
    // 'close' comes once: `on` skips the wrapper `once` allocates.
    response.on('close', () => {
      if (!response.writableFinished) abort.abort()
    })
    const routeContext: RouteContext = {
      modelId,
      requestedModel: request.model,
      signal: abort.signal,
      metadata,
      requestTimeoutMs,
      requestText: body.text,
    }
    try {
      await answer(context, record, request, route, routeContext, model?.costs, keep)
    } finally {
      // Failed, cut off or too large to keep: whoever waited calls upstream itself.
      settleFollowers?.(undefined)
    }
  }

  async function lookUp(key: string): Promise<CacheEntry | undefined> {
    return readAnswer(await gateway.responseCache().get(key))
  }

  /** Calls the route and answers with JSON or a stream; `store` keeps an answer worth keeping. */
  async function answer(
    context: RequestContext,
    record: RequestRecord,
    request: ChatRequest,
    route: ChosenRoute,
    routeContext: RouteContext,
    costs: Parameters<typeof computeCost>[0],
    store: ((provider: string, upstreamModel: string, completionJson: string) => void) | undefined,
  ): Promise<void> {
    const { headers, response } = context

    const result = await executeRoute(route.node, request, routeContext, router.runtime)
    record.provider = context.log.provider = result.provider
    record.upstreamModel = context.log.upstream_model = result.upstreamModel
    record.attempts = context.log.attempts = result.attempts
    headers['x-switchyard-provider'] = result.provider
    headers['x-switchyard-model'] = result.upstreamModel
    headers['x-switchyard-attempts'] = String(result.attempts)
    if (result.path !== '') headers['x-switchyard-route-path'] = result.path
    const { attempt } = result
    if (attempt.dropped.length > 0) {
      headers['x-switchyard-dropped-params'] = attempt.dropped.join(',')
    }
    const keep =
      store === undefined
        ? undefined
        : (completionJson: string) => store(result.provider, result.upstreamModel, completionJson)

    if (attempt.type === 'completion') {
      const { usage } = attempt
      recordUsage(record, usage, costs)
      sendJson(context, 200, attempt.json)
      keep?.(attempt.json)
      // Estimated after the answer went out: the client never waits for the tokenizer.
      if (!usage) {
        const estimate = await estimateUsage(request, completionText(attempt.completion()))
        recordUsage(record, estimate, costs, true)
      }
      return
    }
    gateway.metrics?.trackStream(response)
    const assembler = keep === undefined ? undefined : new CompletionAssembler()
    const parts = assembler === undefined ? attempt.parts : copyInto(attempt.parts, assembler)
    const outcome = await writeEventStream(response, parts, headers)
    const assembled = outcome.error || outcome.disconnected ? undefined : assembler?.completion()
    if (assembled !== undefined) keep?.(JSON.stringify(assembled))
    if (outcome.usage === undefined && outcome.chunkCount > 0) {
      recordUsage(record, await estimateStreamUsage(request, outcome), costs, true)
    } else recordUsage(record, outcome.usage, costs)
    if (outcome.firstChunkAt !== undefined) {
      record.ttftMs = outcome.firstChunkAt - context.startedAt
      context.log.ttfb_ms = Math.round(record.ttftMs * 100) / 100
    }
    if (outcome.error) {
      record.errorCode = context.log.error_code = outcome.error.code
      record.errorType = outcome.error.type
    }
    if (outcome.disconnected) record.errorCode = context.log.error_code = 'client_disconnected'
  }
}

function readAnswer(text: string | undefined): CacheEntry | undefined {
  return text === undefined ? undefined : readEntry(text)
}

/** A cache hit: no upstream call, no tokens, no cost; a streamed request gets the replay. */
async function answerFromCache(
  context: RequestContext,
  record: RequestRecord,
  request: ChatRequest,
  entry: CacheEntry,
): Promise<void> {
  const { headers } = context
  record.cacheHit = true
  record.provider = context.log.provider = entry.provider
  record.upstreamModel = context.log.upstream_model = entry.upstream_model
  record.attempts = context.log.attempts = 0
  context.log.cache = 'hit'
  headers['x-switchyard-provider'] = entry.provider
  headers['x-switchyard-model'] = entry.upstream_model
  headers['x-switchyard-attempts'] = '0'
  if (!record.stream) {
    sendJson(context, 200, JSON.stringify(entry.completion))
    return
  }
  const includeUsage = request.stream_options?.include_usage === true
  await writeEventStream(context.response, replayParts(entry.completion, includeUsage), headers)
}

function recordUsage(
  record: RequestRecord,
  usage: CompletionUsage | null | undefined,
  costs: Parameters<typeof computeCost>[0],
  estimated = false,
): void {
  if (!usage) return
  record.usageEstimated = estimated
  record.promptTokens = usage.prompt_tokens ?? 0
  record.completionTokens = usage.completion_tokens ?? 0
  record.cachedTokens = usage.prompt_tokens_details?.cached_tokens ?? 0
  record.cost = computeCost(
    costs,
    record.promptTokens,
    record.completionTokens,
    record.cachedTokens,
  )
}
