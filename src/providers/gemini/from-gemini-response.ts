/** An unstreamed Gemini response to an OpenAI chat completion. */
import type { ChatCompletion, FinishReason } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { joinFlat } from '../../core/flat-string.ts'
import { mapFinishReason } from './map-finish-reason.ts'
import { groundingAnnotations } from './map-grounding.ts'
import { mapLogprobs } from './map-logprobs.ts'
import { mapUsage } from './map-usage.ts'
import { readCandidate, type ToolCall } from './read-candidate.ts'
import type { GeminiResponse } from './wire-types.ts'

/** What a response needs that Gemini does not say: fixed by the caller, so tests are exact. */
export interface ResponseIdentity {
  /** Completion id when Gemini sent no responseId. */
  fallbackId: string
  /** Unix seconds. */
  created: number
  model: string
  newCallId: () => string
}

export type AssistantMessage = ChatCompletion.Choice['message'] & {
  /** Gemini's thought summaries, under the field every Switchyard adapter uses for reasoning. */
  reasoning_content?: string
  tool_calls?: ToolCall[]
}

export function completionId(response: GeminiResponse, fallbackId: string): string {
  return joinFlat('chatcmpl-', response.responseId ?? fallbackId)
}

export function fromGeminiResponse(
  response: GeminiResponse,
  identity: ResponseIdentity,
): ChatCompletion {
  const completion: ChatCompletion = {
    id: completionId(response, identity.fallbackId),
    object: 'chat.completion',
    created: identity.created,
    model: identity.model,
    choices: toChoices(response, identity),
  }
  if (response.usageMetadata !== undefined) completion.usage = mapUsage(response.usageMetadata)
  return completion
}

function toChoices(response: GeminiResponse, identity: ResponseIdentity): ChatCompletion.Choice[] {
  const candidates = response.candidates ?? []
  if (candidates.length === 0) {
    if (response.promptFeedback?.blockReason !== undefined) {
      // The prompt itself was blocked: OpenAI clients see a filtered, empty answer.
      return [blockedChoice(0)]
    }
    throw new GatewayError('upstream_error', 'Upstream Gemini sent no candidates')
  }
  return candidates.map((candidate, position) => {
    const parts = readCandidate(candidate, identity.newCallId)
    const madeToolCalls = parts.toolCalls.length > 0
    const finishReason: FinishReason =
      candidate.finishReason === undefined
        ? madeToolCalls
          ? 'tool_calls'
          : 'stop'
        : mapFinishReason(candidate.finishReason, madeToolCalls)
    const message: AssistantMessage = {
      role: 'assistant',
      content: parts.text ?? (madeToolCalls || finishReason === 'content_filter' ? null : ''),
      refusal: null,
    }
    if (parts.reasoning !== undefined) message.reasoning_content = parts.reasoning
    if (madeToolCalls) message.tool_calls = parts.toolCalls
    const annotations = groundingAnnotations(candidate.groundingMetadata, parts.text ?? '')
    if (annotations.length > 0) message.annotations = annotations
    return {
      index: candidate.index ?? position,
      message,
      finish_reason: finishReason,
      logprobs: mapLogprobs(candidate.logprobsResult),
    }
  })
}

function blockedChoice(index: number): ChatCompletion.Choice {
  return {
    index,
    message: { role: 'assistant', content: null, refusal: null },
    finish_reason: 'content_filter',
    logprobs: null,
  }
}
