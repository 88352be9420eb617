/**
 * The OpenAI chat request to Gemini's REST body. Every parameter is either mapped, rejected
 * (it would change the answer's meaning) or listed in `dropped` (Gemini has no equivalent).
 */
import type { ChatCompletionCreateParams } from 'openai/resources/chat/completions'
import type { ChatRequest } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { anthropicOnlyFields } from '../anthropic-only-fields.ts'
import { toGeminiContents } from './to-gemini-contents.ts'
import { toFunctionDeclarations, toToolConfig } from './to-gemini-tools.ts'
import type {
  GeminiGenerationConfig,
  GeminiRequestBody,
  GeminiSafetySetting,
  GeminiThinkingConfig,
  GeminiThinkingLevel,
} from './wire-types.ts'

/** Fields read below; any other non-null field is dropped and reported. */
const mappedFields = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'n',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'response_format',
  'reasoning_effort',
  'tools',
  'tool_choice',
  'logprobs',
  'top_logprobs',
  'modalities',
  'web_search_options',
])

/** Fields whose silent loss would change what the client gets back. */
const rejectedFields: Record<string, string> = {
  audio: 'audio output is not supported by this model',
  functions: "the deprecated 'functions' is not supported by this model; use 'tools'",
  function_call: "the deprecated 'function_call' is not supported by this model; use 'tool_choice'",
}

/**
 * Token budgets for `reasoning_effort`, the ones Google's OpenAI-compatible endpoint uses for
 * Gemini 2.5 (Gemini 3 accepts budgets too). 512 is the smallest every 2.5 model takes; -1 lets
 * the model pick up to its own maximum.
 */
const thinkingBudgets: Record<string, number> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: -1,
  max: -1,
}

/**
 * `reasoning_effort` as a Gemini 3 `thinkingLevel`. Pro models take LOW and HIGH only (and cannot
 * turn thinking off); Flash models also take MINIMAL and MEDIUM.
 */
const thinkingLevels: Record<'pro' | 'other', Record<string, GeminiThinkingLevel>> = {
  pro: {
    none: 'LOW',
    minimal: 'LOW',
    low: 'LOW',
    medium: 'HIGH',
    high: 'HIGH',
    xhigh: 'HIGH',
    max: 'HIGH',
  },
  other: {
    none: 'MINIMAL',
    minimal: 'MINIMAL',
    low: 'LOW',
    medium: 'MEDIUM',
    high: 'HIGH',
    xhigh: 'HIGH',
    max: 'HIGH',
  },
}

/** How `reasoning_effort` is sent: token budgets (Gemini 2.5) or thinking levels (Gemini 3). */
export type GeminiReasoningMode = 'budget' | 'level'

/** Gemini 3 and later think in levels; earlier models in budgets. */
export function reasoningModeFor(upstreamModel: string): GeminiReasoningMode {
  const major = /(?:^|\/)gemini-(\d+)/.exec(upstreamModel)?.[1]
  return major !== undefined && Number(major) >= 3 ? 'level' : 'budget'
}

export interface GeminiRequestOptions {
  safetySettings?: GeminiSafetySetting[] | undefined
  reasoningMode?: GeminiReasoningMode
  /** The model the request goes to: picks the thinking levels it takes. */
  upstreamModel?: string
}

export function toGeminiRequest(
  request: ChatRequest,
  options: GeminiRequestOptions = {},
): { body: GeminiRequestBody; dropped: string[] } {
  const dropped = new Set<string>()
  for (const [field, value] of Object.entries(request)) {
    if (value === null || value === undefined) continue
    const rejection = rejectedFields[field]
    if (rejection !== undefined) {
      throw new GatewayError('unsupported_parameter', rejection, { param: field })
    }
    if (!mappedFields.has(field)) dropped.add(field)
  }
  if (request.modalities?.includes('audio')) {
    throw new GatewayError('unsupported_parameter', rejectedFields.audio!, {
      param: 'modalities',
    })
  }

  for (const field of anthropicOnlyFields(request) ?? []) dropped.add(field)
  const conversation = toGeminiContents(request.messages, dropped)
  const body: GeminiRequestBody = { contents: conversation.contents }
  if (conversation.systemInstruction !== undefined) {
    body.systemInstruction = conversation.systemInstruction
  }
  if (request.tools && request.tools.length > 0) {
    body.tools = [{ functionDeclarations: toFunctionDeclarations(request.tools) }]
    if (request.tool_choice != null) body.toolConfig = toToolConfig(request.tool_choice)
  }
  // OpenAI's web search is Gemini's Google Search grounding; its options have no counterpart.
  if (request.web_search_options != null) body.tools = [...(body.tools ?? []), { googleSearch: {} }]
  if (options.safetySettings !== undefined) body.safetySettings = options.safetySettings
  const generationConfig = toGenerationConfig(request, options)
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig
  return { body, dropped: [...dropped] }
}

function toGenerationConfig(
  request: ChatRequest,
  options: GeminiRequestOptions,
): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {}
  const maxTokens = request.max_completion_tokens ?? request.max_tokens
  if (maxTokens != null) config.maxOutputTokens = maxTokens
  if (request.temperature != null) config.temperature = request.temperature
  if (request.top_p != null) config.topP = request.top_p
  if (typeof request.top_k === 'number') config.topK = request.top_k
  if (request.stop != null) {
    config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop
  }
  if (request.seed != null) config.seed = request.seed
  if (request.n != null && request.n !== 1) config.candidateCount = request.n
  if (request.presence_penalty != null) config.presencePenalty = request.presence_penalty
  if (request.frequency_penalty != null) config.frequencyPenalty = request.frequency_penalty
  if (request.logprobs === true) {
    config.responseLogprobs = true
    if (request.top_logprobs != null) config.logprobs = request.top_logprobs
  }
  applyResponseFormat(config, request.response_format)
  if (request.reasoning_effort != null) {
    config.thinkingConfig =
      options.reasoningMode === 'level'
        ? toThinkingLevel(request.reasoning_effort, options.upstreamModel ?? '')
        : toThinkingConfig(request.reasoning_effort)
  }
  return config
}

function applyResponseFormat(
  config: GeminiGenerationConfig,
  format: ChatCompletionCreateParams['response_format'],
): void {
  if (format == null || format.type === 'text') return
  config.responseMimeType = 'application/json'
  // responseJsonSchema takes JSON Schema as OpenAI clients write it; responseSchema is a subset.
  if (format.type === 'json_schema' && format.json_schema.schema !== undefined) {
    config.responseJsonSchema = format.json_schema.schema
  }
}

function toThinkingLevel(effort: string, upstreamModel: string): GeminiThinkingConfig {
  const levels = thinkingLevels[/-pro\b/.test(upstreamModel) ? 'pro' : 'other']
  const level = levels[effort]
  if (level === undefined) {
    throw new GatewayError('invalid_request', `Unsupported reasoning_effort '${effort}'`, {
      param: 'reasoning_effort',
    })
  }
  // Thoughts are returned (as reasoning_content) only when the client asked for reasoning.
  return effort === 'none'
    ? { thinkingLevel: level }
    : { thinkingLevel: level, includeThoughts: true }
}

function toThinkingConfig(effort: string): GeminiThinkingConfig {
  const budget = thinkingBudgets[effort]
  if (budget === undefined) {
    throw new GatewayError('invalid_request', `Unsupported reasoning_effort '${effort}'`, {
      param: 'reasoning_effort',
    })
  }
  // Thoughts are returned (as reasoning_content) only when the client asked for reasoning.
  return budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true }
}
