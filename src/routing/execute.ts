/**
 * The route executor: walks a compiled route (fallback, loadbalance, conditional, single) and
 * makes the upstream attempts over `callTarget`, with retries, backoff, per-attempt timeouts and
 * circuit breakers. Everything before the first byte reaches the client can still be retried or
 * fall back, streams included: a stream counts as answered only once its first part arrived.
 * The strategies it uses are pure functions in this folder; time and randomness come in through
 * the runtime.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { ChatRequest, StreamPart } from '../core/chat.ts'
import { GatewayError } from '../core/errors.ts'
import { RequestAbort, whenAborted } from '../core/request-abort.ts'
import type { TargetContext } from '../providers/types.ts'
import { type AttemptResult, callTarget } from '../upstream/call.ts'
import { classifyFailure, countsAgainstTarget, fallsBack, isRetriable } from './attempt-failure.ts'
import { retryDelay } from './backoff-delay.ts'
import { type CircuitBreakers, createCircuitBreakers } from './circuit-breaker.ts'
import {
  type RouteGroup,
  type RouteNode,
  type RouteTarget,
  targetStatsKey,
} from './compile-route.ts'
import { pickLeastBusy } from './pick-least-busy.ts'
import { pickLowestLatency } from './pick-lowest-latency.ts'
import { pickWeighted } from './pick-weighted.ts'
import { createTargetStats, type TargetStats } from './target-stats.ts'

export interface RouteContext {
  /** The catalog model id the client asked for (aliases already resolved). */
  modelId: string
  /** The model name as the client wrote it; echoed in responses. */
  requestedModel: string
  /** Aborts when the client goes away: everything in flight for it stops, waits included. */
  signal: AbortSignal
  /** Request metadata (`x-switchyard-metadata`), read by conditional routing. */
  metadata?: Readonly<Record<string, string>> | undefined
  /** The client's own timeout per attempt (a request header), over the route's. */
  requestTimeoutMs?: number | undefined
  /** The request's URL path, read by conditional routing (`url.pathname`). */
  pathname?: string | undefined
  /** The request body as the client sent it (see `TargetContext.requestText`). */
  requestText?: string | undefined
}

export interface RouteResult {
  /** What the serving attempt got: a completion, or a stream whose first part has arrived. */
  attempt: AttemptResult
  provider: string
  upstreamModel: string
  /** Upstream attempts made, retries and fallbacks included. */
  attempts: number
  /** Where in the config the serving target is, e.g. `targets[0].targets[1]`; empty at the root. */
  path: string
}

export interface RoutingSettings {
  /** Backoff: the first retry waits up to this many milliseconds, doubling per retry. */
  baseDelayMs: number
  maxDelayMs: number
  /** A `retry-after` longer than this is not waited for: the route falls back instead. */
  maxRetryAfterMs: number
  failureThreshold: number
  cooldownMs: number
}

export const defaultRoutingSettings: RoutingSettings = {
  baseDelayMs: 250,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 30_000,
  failureThreshold: 5,
  cooldownMs: 30_000,
}

/** State shared by every request of one gateway: breakers and load statistics. */
export interface RoutingRuntime {
  settings: RoutingSettings
  breakers: CircuitBreakers
  stats: TargetStats
  random: () => number
  /** Milliseconds, monotonic: measures time to first byte. */
  now: () => number
  /** Resolves after `milliseconds`, rejects when `signal` aborts. */
  sleep: (milliseconds: number, signal: AbortSignal) => Promise<void>
}

export function createRoutingRuntime(
  settings: RoutingSettings = defaultRoutingSettings,
  overrides: Partial<Pick<RoutingRuntime, 'random' | 'now' | 'sleep'>> & {
    clock?: () => number
  } = {},
): RoutingRuntime {
  const clock = overrides.clock ?? Date.now
  return {
    settings,
    breakers: createCircuitBreakers({
      failureThreshold: settings.failureThreshold,
      cooldownMs: settings.cooldownMs,
      now: clock,
    }),
    stats: createTargetStats(),
    random: overrides.random ?? Math.random,
    now: overrides.now ?? performance.now.bind(performance),
    sleep:
      overrides.sleep ?? ((milliseconds, signal) => sleep(milliseconds, undefined, { signal })),
  }
}

interface Execution {
  request: ChatRequest
  context: RouteContext
  runtime: RoutingRuntime
  attempts: number
}

interface Served {
  result: AttemptResult
  target: RouteTarget
  upstreamModel: string
}

export async function executeRoute(
  route: RouteNode,
  request: ChatRequest,
  context: RouteContext,
  runtime: RoutingRuntime,
): Promise<RouteResult> {
  const execution: Execution = { request, context, runtime, attempts: 0 }
  if (!isHealthy(route, execution)) {
    throw new GatewayError(
      'no_healthy_target',
      `Every target for model '${context.requestedModel}' is failing and cooling down; retry shortly`,
      { retryAfter: Math.ceil(runtime.settings.cooldownMs / 1000) },
    )
  }
  const served = await run(route, execution)
  return {
    attempt: served.result,
    provider: served.target.provider.name,
    upstreamModel: served.upstreamModel,
    attempts: execution.attempts,
    path: served.target.path,
  }
}

function run(node: RouteNode, execution: Execution): Promise<Served> {
  if (node.type === 'target') return runTarget(node, execution)
  switch (node.mode) {
    case 'fallback':
      return runFallback(node, execution)
    case 'loadbalance':
      return run(pickBalanced(node, execution), execution)
    case 'conditional':
      return run(pickConditional(node, execution), execution)
    case 'single':
      return run(node.targets[0]!, execution)
  }
}

async function runFallback(group: RouteGroup, execution: Execution): Promise<Served> {
  let lastError: GatewayError | undefined
  for (const target of group.targets) {
    try {
      return await run(target, execution)
    } catch (error) {
      if (!(error instanceof GatewayError) || error.code === 'client_disconnected') throw error
      if (error.code === 'no_healthy_target') continue
      if (!fallsBack(classifyFailure(error), group.fallbackStatusCodes)) throw error
      lastError = error
    }
  }
  throw lastError ?? unavailable(group)
}

function pickBalanced(group: RouteGroup, execution: Execution): RouteNode {
  const { random } = execution.runtime
  const candidates = group.targets.filter(
    (target) => target.weight > 0 && isHealthy(target, execution),
  )
  const picked =
    group.balance === 'least_busy'
      ? pickLeastBusy(candidates, (target) => inFlight(target, execution), random)
      : group.balance === 'lowest_latency'
        ? pickLowestLatency(candidates, (target) => latency(target, execution), random)
        : pickWeighted(candidates, random)
  if (picked === undefined) throw unavailable(group)
  return picked
}

function pickConditional(group: RouteGroup, execution: Execution): RouteNode {
  const conditionContext = {
    metadata: execution.context.metadata ?? {},
    params: execution.request,
    url: { pathname: execution.context.pathname ?? '/v1/chat/completions' },
  }
  for (const condition of group.conditions) {
    if (condition.matches(conditionContext)) return condition.target
  }
  if (group.defaultTarget !== undefined) return group.defaultTarget
  throw new GatewayError(
    'invalid_request',
    `No condition of the route${group.path ? ` at ${group.path}` : ''} matched this request, and it has no default`,
  )
}

async function runTarget(target: RouteTarget, execution: Execution): Promise<Served> {
  const { context, runtime } = execution
  const upstreamModel = target.model ?? context.modelId
  const key = keyOf(target, execution)
  let lastError: GatewayError | undefined
  for (let retry = 0; ; retry++) {
    if (context.signal.aborted) throw disconnected()
    if (!runtime.breakers.acquire(key)) {
      // Opened by this request's own failures (or others'): stop retrying a sick target.
      throw lastError ?? unavailable(target)
    }
    try {
      const result = await attempt(target, upstreamModel, key, execution)
      return { result, target, upstreamModel }
    } catch (error) {
      if (!(error instanceof GatewayError) || error.code === 'client_disconnected') throw error
      lastError = error
      const { retry: policy } = target
      if (retry >= policy.attempts || !isRetriable(classifyFailure(error), policy.statusCodes)) {
        throw error
      }
      const delay = retryDelay(retry, error.retryAfter, {
        base: runtime.settings.baseDelayMs,
        cap: runtime.settings.maxDelayMs,
        maxRetryAfter: runtime.settings.maxRetryAfterMs,
        useRetryAfter: policy.useRetryAfter,
        random: runtime.random,
      })
      if (delay === undefined) throw error
      try {
        await runtime.sleep(delay, context.signal)
      } catch {
        throw disconnected()
      }
    }
  }
}

/** One upstream attempt; resolves once the answer is complete (or, streamed, its first part). */
async function attempt(
  target: RouteTarget,
  upstreamModel: string,
  key: string,
  execution: Execution,
): Promise<AttemptResult> {
  const { request, context, runtime } = execution
  execution.attempts++
  // An attempt with a timeout gets its own signal (the client's abort forwarded into it); one
  // without uses the client's signal as it is, with no controller or listener per attempt.
  let controller: AbortController | undefined
  let stopForwarding: (() => void) | undefined
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  const timeoutMs = context.requestTimeoutMs ?? target.requestTimeoutMs
  if (timeoutMs !== undefined) {
    const attemptController = new RequestAbort()
    controller = attemptController
    stopForwarding = whenAborted(context.signal, () =>
      attemptController.abort(context.signal.reason),
    )
    timer = setTimeout(() => {
      timedOut = true
      attemptController.abort()
    }, timeoutMs)
  }
  const stream = request.stream === true
  const options = request.stream_options as { include_usage?: boolean } | null | undefined
  const body =
    target.overrideParams === undefined ? request : { ...request, ...target.overrideParams }
  const targetContext: TargetContext = {
    upstreamModel,
    requestedModel: context.requestedModel,
    stream,
    clientWantsUsage: stream && options?.include_usage === true,
    requestText: body === request ? context.requestText : undefined,
  }
  const { breakers, stats } = runtime
  const startedAt = runtime.now()
  stats.start(key)
  let handedOver = false
  const finish = () => {
    stats.end(key)
    stopForwarding?.()
  }
  try {
    const result = await callTarget(
      target.provider,
      body,
      targetContext,
      controller?.signal ?? context.signal,
    )
    if (result.type === 'completion') {
      stats.recordLatency(key, runtime.now() - startedAt)
      breakers.succeed(key)
      return result
    }
    const parts = result.parts[Symbol.asyncIterator]()
    const first = await parts.next()
    if (!first.done && first.value.type === 'error') {
      await parts.return?.()
      throw first.value.error
    }
    stats.recordLatency(key, runtime.now() - startedAt)
    breakers.succeed(key)
    handedOver = true
    // Once the client has been told the stream is done, or stopped reading it.
    result.parts.onEnd(finish)
    return { ...result, parts: replay(first, parts) }
  } catch (error) {
    const failure = context.signal.aborted
      ? disconnected()
      : timedOut
        ? new GatewayError(
            'upstream_timeout',
            `Upstream ${target.provider.name} did not answer within ${context.requestTimeoutMs === undefined ? 'request_timeout' : 'the request timeout'} (${timeoutMs} ms)`,
          )
        : error instanceof GatewayError
          ? error
          : new GatewayError('upstream_error', 'Upstream request failed', { cause: error })
    if (failure.code === 'client_disconnected') breakers.release(key)
    else if (countsAgainstTarget(classifyFailure(failure))) breakers.fail(key)
    else if (classifyFailure(failure).kind === 'local') breakers.release(key)
    else breakers.succeed(key)
    throw failure
  } finally {
    if (timer !== undefined) clearTimeout(timer)
    if (!handedOver) finish()
  }
}

/**
 * The stream as the client sees it: the part already read, then the rest, read straight from the
 * upstream's parts (whose end hook calls `finish`). An iterator of its own, not an async
 * generator: a generator layer costs every part of every stream another promise and microtask
 * turn.
 */
function replay(
  first: IteratorResult<StreamPart>,
  rest: AsyncIterator<StreamPart>,
): AsyncIterable<StreamPart> {
  let firstSent = first.done === true
  const ended: IteratorResult<StreamPart> = { done: true, value: undefined }
  const iterator: AsyncIterator<StreamPart> = {
    next() {
      if (firstSent) return rest.next()
      firstSent = true
      return Promise.resolve(first)
    },
    return() {
      return rest.return === undefined ? Promise.resolve(ended) : rest.return()
    },
  }
  return { [Symbol.asyncIterator]: () => iterator }
}

/** The target's breaker and statistics key: built at compile time when its model is fixed. */
function keyOf(target: RouteTarget, execution: Execution): string {
  return (
    target.modelStatsKey ??
    targetStatsKey(target.statsKey, target.model ?? execution.context.modelId)
  )
}

function isHealthy(node: RouteNode, execution: Execution): boolean {
  if (node.type === 'target') return execution.runtime.breakers.isAvailable(keyOf(node, execution))
  return node.targets.some((child) => isHealthy(child, execution))
}

function inFlight(node: RouteNode, execution: Execution): number {
  if (node.type === 'target') return execution.runtime.stats.inFlight(keyOf(node, execution))
  let total = 0
  for (const child of node.targets) total += inFlight(child, execution)
  return total
}

function latency(node: RouteNode, execution: Execution): number | undefined {
  if (node.type === 'target') return execution.runtime.stats.latency(keyOf(node, execution))
  let lowest: number | undefined
  for (const child of node.targets) {
    const value = latency(child, execution)
    if (value !== undefined && (lowest === undefined || value < lowest)) lowest = value
  }
  return lowest
}

function unavailable(node: RouteNode): GatewayError {
  const where = node.path === '' ? 'the route' : node.path
  return new GatewayError(
    'no_healthy_target',
    `No healthy target at ${where}: its targets are cooling down after repeated failures`,
  )
}

function disconnected(): GatewayError {
  return new GatewayError('client_disconnected', 'The client closed the request')
}
