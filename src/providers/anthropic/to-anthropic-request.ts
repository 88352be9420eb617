/**
 * The OpenAI chat request as an Anthropic Messages request: pure, request in, request out.
 * Parameters Anthropic has no equivalent for are dropped and named in `dropped`; parameters whose
 * silent loss would change the answer's shape (`n > 1`, audio, legacy functions) are refused.
 */
import type { OutputConfig } from '@anthropic-ai/sdk/resources/messages'
import type { ChatRequest } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { anthropicOnlyFields } from '../anthropic-only-fields.ts'
import type { TargetContext } from '../types.ts'
import { readCacheControl } from './cache-control.ts'
import { convertMessages } from './convert-messages.ts'
import { convertTools } from './convert-tools.ts'
import { jsonResponseTool } from './json-response-tool.ts'
import { planReasoning, type ReasoningMode } from './map-reasoning.ts'
import type { AnthropicRequestBody, CacheControlEphemeral, Tool } from './types.ts'

export interface AnthropicRequestOptions {
  defaultMaxTokens: number
  reasoningMode: ReasoningMode
  /** API versions from 2026-10-21 refuse temperature, top_p and top_k at any value. */
  samplingParameters: boolean
  /**
   * The provider's `prompt_caching: auto`: Anthropic's automatic breakpoint on requests that
   * place none of their own.
   */
  autoCache?: CacheControlEphemeral | undefined
}

/** Read and translated below; every other field is dropped (and named) or refused. */
const translated = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'n',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'user',
  'safety_identifier',
  'reasoning_effort',
  'modalities',
  'cache_control',
])

const refused: Record<string, string> = {
  functions: "'functions' is not supported for Anthropic models; use 'tools'",
  function_call: "'function_call' is not supported for Anthropic models; use 'tool_choice'",
  audio: 'Audio output is not supported for Anthropic models',
}

export function toAnthropicRequest(
  request: ChatRequest,
  target: TargetContext,
  options: AnthropicRequestOptions,
): { body: AnthropicRequestBody; dropped: string[] } {
  const dropped: string[] = []
  for (const [key, value] of Object.entries(request)) {
    if (translated.has(key) || value === undefined || value === null) continue
    const refusal = refused[key]
    if (refusal !== undefined)
      throw new GatewayError('unsupported_parameter', refusal, { param: key })
    // `false` asks for nothing (logprobs: false, store: false): nothing is lost by dropping it.
    if (value !== false) dropped.push(key)
  }
  if (typeof request.n === 'number' && request.n > 1) {
    throw new GatewayError(
      'unsupported_parameter',
      'Anthropic models return one choice per request; n must be 1',
      { param: 'n' },
    )
  }
  if (request.modalities?.includes('audio')) {
    throw new GatewayError('unsupported_parameter', refused.audio!, { param: 'modalities' })
  }

  const clientMaxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined
  const reasoning = planReasoning(
    request.reasoning_effort,
    options.reasoningMode,
    clientMaxTokens,
    options.defaultMaxTokens,
  )
  const thinking = reasoning.thinking !== undefined

  const { system, messages } = convertMessages(request.messages)
  const body: AnthropicRequestBody = {
    model: target.upstreamModel,
    max_tokens: reasoning.maxTokens,
    messages,
  }
  if (system !== undefined) body.system = system
  if (reasoning.thinking !== undefined) body.thinking = reasoning.thinking
  const outputConfig: OutputConfig = {}
  if (reasoning.effort !== undefined) outputConfig.effort = reasoning.effort

  const format = convertResponseFormat(request.response_format, thinking)
  if (format.schema !== undefined)
    outputConfig.format = { type: 'json_schema', schema: format.schema }
  if (outputConfig.effort !== undefined || outputConfig.format !== undefined) {
    body.output_config = outputConfig
  }
  Object.assign(
    body,
    convertTools({
      tools: request.tools,
      toolChoice: request.tool_choice,
      parallelToolCalls: request.parallel_tool_calls,
      jsonTool: format.tool,
    }),
  )

  addSampling(body, request, options.samplingParameters, thinking, dropped)
  const stop = typeof request.stop === 'string' ? [request.stop] : (request.stop ?? [])
  // Anthropic refuses stop sequences made only of whitespace.
  const stopSequences = stop.filter((sequence) => sequence.trim().length > 0)
  if (stopSequences.length < stop.length) dropped.push('stop')
  if (stopSequences.length > 0) body.stop_sequences = stopSequences
  const userId = request.safety_identifier ?? request.user
  if (userId) body.metadata = { user_id: userId }
  const cache = cacheBreakpoint(request, options.autoCache)
  if (cache !== undefined) body.cache_control = cache
  if (target.stream) body.stream = true
  return { body, dropped }
}

/**
 * The request-level breakpoint: the client's own, else the provider's automatic one when the
 * client placed no breakpoint anywhere (theirs say what to cache, and Anthropic takes at most
 * four).
 */
function cacheBreakpoint(
  request: ChatRequest,
  autoCache: CacheControlEphemeral | undefined,
): CacheControlEphemeral | undefined {
  const requested = readCacheControl(request, '')
  if (requested !== undefined) return requested.cache_control
  if (autoCache === undefined) return undefined
  return anthropicOnlyFields(request)?.includes('cache_control') ? undefined : autoCache
}

function addSampling(
  body: AnthropicRequestBody,
  request: ChatRequest,
  allowed: boolean,
  thinking: boolean,
  dropped: string[],
): void {
  const { temperature, top_p: topP } = request
  const topK = typeof request.top_k === 'number' ? request.top_k : undefined
  if (typeof temperature === 'number') {
    // Thinking requires the default temperature. OpenAI's 0..2 is clamped (not scaled) to 0..1,
    // so the common 0..1 range means the same on both sides.
    if (allowed && !thinking) body.temperature = Math.min(temperature, 1)
    else dropped.push('temperature')
  }
  if (typeof topP === 'number') {
    if (allowed) body.top_p = topP
    else dropped.push('top_p')
  }
  if (topK !== undefined) {
    if (allowed && !thinking) body.top_k = topK
    else dropped.push('top_k')
  }
}

/**
 * A strict JSON schema becomes a structured output (`output_config.format`), which Anthropic
 * enforces. `json_object` and non-strict schemas, which structured outputs cannot express (they
 * need closed objects), become the forced JSON tool; with thinking on, tools cannot be forced, so a
 * schema goes to structured outputs and `json_object` is refused.
 */
function convertResponseFormat(
  format: ChatRequest['response_format'],
  thinking: boolean,
): { schema?: Record<string, unknown>; tool?: Tool } {
  if (format === undefined || format === null || format.type === 'text') return {}
  if (format.type === 'json_schema') {
    const { schema, strict, description } = format.json_schema
    if (schema !== undefined) {
      const objectRoot = schema.type === undefined || schema.type === 'object'
      if (strict === true || thinking || !objectRoot) return { schema }
      return { tool: jsonResponseTool(schema, description) }
    }
  } else if (format.type !== 'json_object') {
    throw new GatewayError(
      'unsupported_parameter',
      `response_format of type '${(format as { type: string }).type}' is not supported`,
      { param: 'response_format' },
    )
  }
  if (thinking) {
    throw new GatewayError(
      'unsupported_parameter',
      "response_format 'json_object' cannot be combined with reasoning_effort on Anthropic models; use a strict 'json_schema'",
      { param: 'response_format' },
    )
  }
  return { tool: jsonResponseTool(undefined) }
}
