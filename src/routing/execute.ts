/**
 * The route executor: walks a model's routing config and makes the upstream attempts. Today a
 * route is one target; retries, fallback and load balancing grow here, over the same call.
 */
import type { ChatRequest } from '../core/chat.ts'
import { GatewayError } from '../core/errors.ts'
import { type AttemptResult, callTarget, type Provider } from '../upstream/call.ts'
import type { RouteConfig } from './config.ts'

export interface RouteContext {
  /** The catalog model id the client asked for (aliases already resolved). */
  modelId: string
  /** The model name as the client wrote it; echoed in responses. */
  requestedModel: string
  signal: AbortSignal
}

export type RouteResult = AttemptResult & {
  provider: string
  upstreamModel: string
  attempts: number
}

export async function executeRoute(
  route: RouteConfig,
  providers: ReadonlyMap<string, Provider>,
  request: ChatRequest,
  context: RouteContext,
): Promise<RouteResult> {
  const provider = providers.get(route.provider)
  if (provider === undefined) {
    throw new GatewayError('internal_error', `Route names unknown provider ${route.provider}`)
  }
  const upstreamModel = route.model ?? context.modelId
  const stream = request.stream === true
  const options = request.stream_options as { include_usage?: boolean } | null | undefined
  const result = await callTarget(
    provider,
    request,
    {
      upstreamModel,
      requestedModel: context.requestedModel,
      stream,
      clientWantsUsage: stream && options?.include_usage === true,
    },
    context.signal,
  )
  return { ...result, provider: provider.name, upstreamModel, attempts: 1 }
}
