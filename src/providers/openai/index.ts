/**
 * `kind: openai`: any server that speaks the OpenAI chat API (OpenAI, vLLM, Ollama, TGI,
 * llama.cpp, Mistral, Groq, …). Requests pass through with the model swapped; answers and stream
 * chunks pass through as the upstream's text with only the `model` field rewritten.
 */
import { z } from 'zod'
import type { ChatCompletion, ChatRequest, CompletionUsage, StreamPart } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { dropAnthropicFields } from '../anthropic-only-fields.ts'
import { createTransportFor, httpProviderFields, splitBaseUrl } from '../http-config.ts'
import type {
  ProviderAdapter,
  ProviderDefinition,
  SseEvent,
  StreamTranslator,
  TargetContext,
} from '../types.ts'
import { mapUpstreamError, readJsonError } from '../upstream-error.ts'
import { findUsage } from './find-usage.ts'
import { withUpstreamModel } from './request-text.ts'
import { hasKey, modelFieldFor, rewriteModel, StreamModelRewriter } from './rewrite-model.ts'

const configSchema = z.strictObject({
  kind: z.literal('openai'),
  ...httpProviderFields,
  /** Ask the upstream for a usage chunk on every stream (stripped when the client did not ask). */
  stream_usage: z.boolean().default(true),
  /**
   * `cache_control` and `thinking_blocks` are read by Anthropic only: `drop` keeps them from
   * servers that refuse unknown fields; `forward` passes them to a gateway in front of Claude.
   */
  anthropic_fields: z.enum(['drop', 'forward']).default('drop'),
})
export type OpenAIProviderConfig = z.infer<typeof configSchema>

export interface OpenAICompatibleOptions {
  baseUrl: string
  /** Builds the upstream path for an upstream model (Azure puts the deployment in the path). */
  chatPath?: (upstreamModel: string) => string
  authHeaders: Record<string, string>
  extraHeaders?: Record<string, string> | undefined
  streamUsage: boolean
  /** Whether the body keeps a `model` field (Azure deployments take it from the path). */
  sendModel?: boolean
  secrets: readonly string[]
  label: string
  /** Send Anthropic-only fields on (an OpenAI-compatible gateway in front of Claude reads them). */
  forwardAnthropicFields?: boolean
}

/** The OpenAI-compatible adapter, reused by every provider that speaks the same wire format. */
export function createOpenAICompatibleAdapter(options: OpenAICompatibleOptions): ProviderAdapter {
  const { origin, pathPrefix, query } = splitBaseUrl(options.baseUrl)
  const chatPath = options.chatPath ?? (() => `${pathPrefix}/chat/completions${query}`)
  const headers = {
    'content-type': 'application/json',
    ...options.extraHeaders,
    ...options.authHeaders,
  }
  const sendModel = options.sendModel ?? true

  /** The request as the upstream gets it, when it is serialised again. */
  function upstreamBody(
    request: ChatRequest,
    target: TargetContext,
    cleaned: Record<string, unknown> | undefined,
  ): Record<string, unknown> {
    const body: Record<string, unknown> = cleaned ?? { ...request }
    if (sendModel) body.model = target.upstreamModel
    else delete body.model
    if (target.stream && options.streamUsage) {
      body.stream_options = { ...request.stream_options, include_usage: true }
    }
    return body
  }

  return {
    buildRequest(request: ChatRequest, target: TargetContext) {
      const cleaned = options.forwardAnthropicFields ? undefined : dropAnthropicFields(request)
      const addsUsage =
        target.stream && options.streamUsage && request.stream_options?.include_usage !== true
      // Only the model changes: the client's own text goes upstream with it swapped.
      const asWritten =
        cleaned === undefined && sendModel && !addsUsage && target.requestText !== undefined
          ? withUpstreamModel(target.requestText, request, target.upstreamModel)
          : undefined
      return {
        request: {
          method: 'POST',
          origin,
          path: chatPath(target.upstreamModel),
          headers,
          body: asWritten ?? JSON.stringify(upstreamBody(request, target, cleaned?.body)),
        },
        dropped: cleaned?.dropped ?? [],
      }
    },

    parseResponse(body: string, target: TargetContext): ChatCompletion {
      let parsed: unknown
      try {
        parsed = JSON.parse(body)
      } catch {
        throw new GatewayError(
          'upstream_error',
          `Upstream ${options.label} sent a body that is not JSON`,
        )
      }
      if (
        parsed === null ||
        typeof parsed !== 'object' ||
        !Array.isArray((parsed as ChatCompletion).choices)
      ) {
        throw new GatewayError('upstream_error', `Upstream ${options.label} sent no choices`)
      }
      const completion = parsed as ChatCompletion
      completion.model = target.requestedModel
      return completion
    },

    forwardResponse(body: string, target: TargetContext) {
      if (!body.includes('"choices"')) return undefined
      const found = findUsage(body)
      if (found === undefined) return undefined
      const json = rewriteModel(body, modelFieldFor(target.requestedModel))
      // No top-level model to rewrite: parseResponse adds one.
      if (json === body) return undefined
      return { json, usage: found.usage ?? undefined }
    },

    createStreamTranslator(target: TargetContext): StreamTranslator {
      return new PassThroughTranslator(target, options.label)
    },

    parseError(status, body, responseHeaders) {
      return mapUpstreamError(
        { status, ...readJsonError(body), headers: responseHeaders },
        options.label,
        options.secrets,
      )
    },
  }
}

class PassThroughTranslator implements StreamTranslator {
  readonly #target: TargetContext
  readonly #label: string
  /** Writes `"model":"<the model the client asked for>"` into every chunk. */
  readonly #model: StreamModelRewriter
  #finished = false

  constructor(target: TargetContext, label: string) {
    this.#target = target
    this.#label = label
    this.#model = new StreamModelRewriter(modelFieldFor(target.requestedModel))
  }

  push(event: SseEvent): StreamPart[] {
    const { data } = event
    if (data === '[DONE]') {
      this.#finished = true
      return []
    }
    if (data.length === 0) return []
    if (!this.#finished && hasKey(data, 'finish_reason":"')) this.#finished = true
    if (data.startsWith('{"error"') || event.event === 'error') {
      const facts = readJsonError(data)
      return [
        {
          type: 'error',
          error: new GatewayError(
            'upstream_error',
            facts.message ?? `Upstream ${this.#label} failed mid-stream`,
          ),
        },
      ]
    }
    const raw = this.#model.rewrite(data)
    // Only the (rare) chunk that carries usage is parsed; every other chunk passes as bytes.
    if (!hasKey(data, 'usage":{')) return [{ type: 'raw', data: raw }]
    const usage = readUsage(data)
    if (!this.#target.clientWantsUsage && isUsageOnlyChunk(data)) {
      return usage === undefined ? [] : [{ type: 'usage', usage }]
    }
    return [{ type: 'raw', data: raw, usage }]
  }

  end(): StreamPart[] {
    if (this.#finished) return []
    // A clean close before any choice finished is a cut-off answer, not a complete one.
    const error = new GatewayError(
      'upstream_error',
      `Upstream ${this.#label} ended the stream early`,
    )
    return [{ type: 'error', error }]
  }
}

function readUsage(data: string): CompletionUsage | undefined {
  try {
    const chunk = JSON.parse(data) as { usage?: CompletionUsage | null }
    return chunk.usage ?? undefined
  } catch {
    return undefined
  }
}

function isUsageOnlyChunk(data: string): boolean {
  return /"choices"\s*:\s*\[\s*\]/.test(data)
}

export const openaiProvider: ProviderDefinition<OpenAIProviderConfig> = {
  kind: 'openai',
  configSchema,
  createAdapter(config) {
    return createOpenAICompatibleAdapter({
      baseUrl: config.base_url,
      authHeaders: config.api_key ? { authorization: `Bearer ${config.api_key}` } : {},
      extraHeaders: config.headers,
      streamUsage: config.stream_usage,
      forwardAnthropicFields: config.anthropic_fields === 'forward',
      secrets: config.api_key ? [config.api_key] : [],
      label: new URL(config.base_url).host,
    })
  },
  createTransport: createTransportFor,
}
