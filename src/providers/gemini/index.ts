/**
 * `kind: gemini`: Google's Gemini API (generativelanguage.googleapis.com) in its native wire
 * format, translated to and from the OpenAI chat API both ways, unstreamed and streamed.
 */

import { z } from 'zod'
import { randomBytes } from '../../core/builtins.ts'
import type { ChatCompletion, ChatRequest } from '../../core/chat.ts'
import { createTransportFor, httpProviderFields, splitBaseUrl } from '../http-config.ts'
import type { ProviderAdapter, ProviderDefinition, TargetContext } from '../types.ts'
import { fromGeminiResponse } from './from-gemini-response.ts'
import { parseGeminiError } from './map-error.ts'
import { parsePayload } from './parse-payload.ts'
import { GeminiStreamTranslator } from './stream-translator.ts'
import { reasoningModeFor, toGeminiRequest } from './to-gemini-request.ts'

export const defaultGeminiBaseUrl = 'https://generativelanguage.googleapis.com/v1beta'

const configSchema = z.strictObject({
  kind: z.literal('gemini'),
  ...httpProviderFields,
  base_url: httpProviderFields.base_url.default(defaultGeminiBaseUrl),
  /**
   * How `reasoning_effort` is sent: `auto` uses thinking levels for Gemini 3 and later models and
   * token budgets before them; `budget` and `level` force one.
   */
  reasoning_mode: z.enum(['auto', 'budget', 'level']).default('auto'),
  /** Sent as `safetySettings` on every request, e.g. to relax Gemini's default thresholds. */
  safety_settings: z
    .array(z.strictObject({ category: z.string().min(1), threshold: z.string().min(1) }))
    .optional(),
})
export type GeminiProviderConfig = z.infer<typeof configSchema>

/** Time and randomness, injected so tests are exact. */
export interface GeminiAdapterOptions {
  /** A fresh random id (completion ids when Gemini sends none, tool call ids). */
  newId?: () => string
  /** Milliseconds since the epoch. */
  now?: () => number
}

export function createGeminiAdapter(
  config: GeminiProviderConfig,
  options: GeminiAdapterOptions = {},
): ProviderAdapter {
  const newId = options.newId ?? randomId
  const now = options.now ?? Date.now
  const { origin, pathPrefix, query } = splitBaseUrl(config.base_url)
  const streamQuery = query === '' ? '?alt=sse' : `${query}&alt=sse`
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    ...config.headers,
    ...(config.api_key === undefined ? {} : { 'x-goog-api-key': config.api_key }),
  }
  const secrets = config.api_key === undefined ? [] : [config.api_key]
  const identity = (target: TargetContext) => ({
    fallbackId: newId(),
    created: Math.floor(now() / 1000),
    model: target.requestedModel,
    newCallId: () => `call_${newId()}`,
  })

  return {
    inlinesImageUrls: true,

    buildRequest(request: ChatRequest, target: TargetContext) {
      const { body, dropped } = toGeminiRequest(request, {
        safetySettings: config.safety_settings,
        upstreamModel: target.upstreamModel,
        reasoningMode:
          config.reasoning_mode === 'auto'
            ? reasoningModeFor(target.upstreamModel)
            : config.reasoning_mode,
      })
      const method = target.stream ? 'streamGenerateContent' : 'generateContent'
      return {
        request: {
          method: 'POST',
          origin,
          path: `${pathPrefix}/${modelPath(target.upstreamModel)}:${method}${target.stream ? streamQuery : query}`,
          headers,
          body: JSON.stringify(body),
        },
        dropped,
      }
    },

    parseResponse(body: string, target: TargetContext): ChatCompletion {
      const payload = parsePayload(body)
      if (payload.type === 'error') {
        throw parseGeminiError(payload.error.code ?? 500, body, {}, secrets)
      }
      return fromGeminiResponse(payload.response, identity(target))
    },

    createStreamTranslator(target: TargetContext) {
      return new GeminiStreamTranslator({
        ...identity(target),
        clientWantsUsage: target.clientWantsUsage,
        secrets,
      })
    },

    parseError(status, body, responseHeaders) {
      return parseGeminiError(status, body, responseHeaders, secrets)
    },
  }
}

/** `gemini-2.5-flash` lives under `models/`; a full resource name (`tunedModels/x`) is kept. */
function modelPath(model: string): string {
  const name = model.includes('/') ? model : `models/${model}`
  return name.split('/').map(encodeURIComponent).join('/')
}

function randomId(): string {
  return randomBytes(12).toString('base64url')
}

export const geminiProvider: ProviderDefinition<GeminiProviderConfig> = {
  kind: 'gemini',
  configSchema,
  createAdapter: (config) => createGeminiAdapter(config),
  createTransport: createTransportFor,
}
