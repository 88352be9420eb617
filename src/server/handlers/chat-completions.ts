/**
 * `POST /v1/chat/completions`: authenticate, read and validate the body, resolve the model, check
 * the key may use it, execute its route, then answer with JSON or a stream.
 */
import type { ChatRequest } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { validateChatRequest } from '../../core/validate-chat-request.ts'
import type { Gateway } from '../../gateway.ts'
import { executeRoute } from '../../routing/execute.ts'
import { authenticate } from '../auth.ts'
import { readJsonBody } from '../body.ts'
import type { RequestContext } from '../context.ts'
import { sendJson } from '../respond.ts'
import { writeEventStream } from '../sse.ts'

export function createChatCompletionsHandler(gateway: Gateway) {
  const bodyLimit = gateway.config.server.body_limit

  return async function chatCompletions(context: RequestContext): Promise<void> {
    const key = authenticate(context, gateway.keys)
    const request: ChatRequest = validateChatRequest(await readJsonBody(context.request, bodyLimit))
    context.log.model = request.model
    context.log.stream = request.stream === true

    const model = gateway.catalog.resolve(request.model)
    if (model === undefined) {
      throw new GatewayError('model_not_found', `The model '${request.model}' does not exist`, {
        param: 'model',
      })
    }
    if (!key.allows(model.id)) {
      throw new GatewayError(
        'model_not_allowed',
        `This API key may not use the model '${request.model}'`,
        {
          param: 'model',
        },
      )
    }

    // A client that goes away cancels everything still in flight for it.
    const abort = new AbortController()
    const { response } = context
    response.once('close', () => {
      if (!response.writableFinished) abort.abort()
    })

    const result = await executeRoute(model.route, gateway.providers, request, {
      modelId: model.id,
      requestedModel: request.model,
      signal: abort.signal,
    })
    context.log.provider = result.provider
    context.log.upstream_model = result.upstreamModel
    context.log.attempts = result.attempts
    const headers: Record<string, string> = {
      'x-switchyard-provider': result.provider,
      'x-switchyard-model': result.upstreamModel,
      'x-switchyard-attempts': String(result.attempts),
    }
    if (result.dropped.length > 0) headers['x-switchyard-dropped-params'] = result.dropped.join(',')

    if (result.type === 'completion') {
      sendJson(response, 200, result.completion, headers)
      return
    }
    const outcome = await writeEventStream(response, result.parts, headers)
    if (outcome.firstChunkAt !== undefined) {
      context.log.ttfb_ms = Math.round((outcome.firstChunkAt - context.startedAt) * 100) / 100
    }
    if (outcome.error) context.log.error_code = outcome.error.code
    if (outcome.disconnected) context.log.error_code = 'client_disconnected'
  }
}
