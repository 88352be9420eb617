/**
 * Gemini's SSE stream (one GenerateContentResponse per event) to OpenAI chunks, as each event
 * arrives. Per choice: the first delta carries the role, function calls go out whole with an
 * index that stays stable for the stream, and a finish reason closes the choice. Usage arrives
 * on every event but is final only on the last, so it goes out when the stream ends.
 */
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import type { CompletionUsage, FinishReason, StreamPart } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import type { SseEvent, StreamTranslator } from '../types.ts'
import { completionId } from './from-gemini-response.ts'
import { mapGeminiError } from './map-error.ts'
import { mapFinishReason } from './map-finish-reason.ts'
import { groundingAnnotations, type UrlCitation } from './map-grounding.ts'
import { mapLogprobs } from './map-logprobs.ts'
import { hasTokenCounts, mapUsage } from './map-usage.ts'
import { parsePayload } from './parse-payload.ts'
import { readCandidate, type ToolCall } from './read-candidate.ts'
import type { GeminiCandidate, GeminiUsageMetadata } from './wire-types.ts'

export interface StreamIdentity {
  fallbackId: string
  created: number
  model: string
  newCallId: () => string
  clientWantsUsage: boolean
  secrets: readonly string[]
}

type Delta = ChatCompletionChunk.Choice['delta'] & {
  reasoning_content?: string
  /** As on a message: OpenAI's web-search answers carry citations, here in the delta they end. */
  annotations?: UrlCitation[]
  tool_calls?: (ToolCall & { index: number })[]
}

interface ChoiceState {
  roleSent: boolean
  toolCalls: number
  finished: boolean
  /** The text so far, where Google Search citations are placed. */
  text: string
  /** Citations already sent (Gemini may repeat its metadata). */
  cited: Set<string>
}

export class GeminiStreamTranslator implements StreamTranslator {
  readonly #identity: StreamIdentity
  readonly #choices = new Map<number, ChoiceState>()
  #id: string | undefined
  #usage: GeminiUsageMetadata | undefined
  #failed = false

  constructor(identity: StreamIdentity) {
    this.#identity = identity
  }

  push(event: SseEvent): StreamPart[] {
    if (this.#failed || event.data.trim() === '') return []
    let payload: ReturnType<typeof parsePayload>
    try {
      payload = parsePayload(event.data)
    } catch (error) {
      return this.#fail(error as GatewayError)
    }
    if (payload.type === 'error') {
      const status = payload.error.code ?? 500
      return this.#fail(mapGeminiError(status, payload.error, {}, this.#identity.secrets))
    }
    const { response } = payload
    this.#id ??= completionId(response, this.#identity.fallbackId)
    if (hasTokenCounts(response.usageMetadata)) this.#usage = response.usageMetadata
    const candidates = response.candidates ?? []
    if (candidates.length === 0 && response.promptFeedback?.blockReason !== undefined) {
      return [this.#finish(0, this.#state(0), 'content_filter')]
    }
    const parts: StreamPart[] = []
    candidates.forEach((candidate, position) => {
      this.#translateCandidate(candidate, candidate.index ?? position, parts)
    })
    return parts
  }

  end(): StreamPart[] {
    if (this.#failed) return []
    const parts: StreamPart[] = []
    if (this.#usage !== undefined) {
      const usage = mapUsage(this.#usage)
      parts.push(
        this.#identity.clientWantsUsage
          ? { type: 'chunk', chunk: this.#usageChunk(usage) }
          : { type: 'usage', usage },
      )
    }
    const states = [...this.#choices.values()]
    if (states.length === 0 || states.some((state) => !state.finished)) {
      // A clean close before every choice finished is a cut-off answer, not a complete one.
      const error = new GatewayError('upstream_error', 'Upstream Gemini ended the stream early')
      parts.push({ type: 'error', error })
    }
    return parts
  }

  #translateCandidate(candidate: GeminiCandidate, index: number, parts: StreamPart[]): void {
    const state = this.#state(index)
    if (state.finished) return
    const read = readCandidate(candidate, this.#identity.newCallId)
    const delta: Delta = {}
    if (read.reasoning !== undefined) delta.reasoning_content = read.reasoning
    if (read.text !== undefined) delta.content = read.text
    if (read.toolCalls.length > 0) {
      delta.tool_calls = read.toolCalls.map((call) => ({ index: state.toolCalls++, ...call }))
    }
    if (read.text !== undefined) state.text += read.text
    if (candidate.groundingMetadata !== undefined) {
      const fresh = groundingAnnotations(candidate.groundingMetadata, state.text).filter(
        (annotation) => {
          const { url, start_index: start, end_index: end } = annotation.url_citation
          const key = `${url}\n${start}\n${end}`
          if (state.cited.has(key)) return false
          state.cited.add(key)
          return true
        },
      )
      if (fresh.length > 0) delta.annotations = fresh
    }
    if (Object.keys(delta).length > 0) {
      const chunk = this.#chunk(index, this.#withRole(state, delta), null)
      const logprobs = mapLogprobs(candidate.logprobsResult)
      if (logprobs !== null) chunk.choices[0]!.logprobs = logprobs
      parts.push({ type: 'chunk', chunk })
    }
    if (candidate.finishReason !== undefined) {
      const reason = mapFinishReason(candidate.finishReason, state.toolCalls > 0)
      parts.push(this.#finish(index, state, reason))
    }
  }

  #finish(index: number, state: ChoiceState, reason: FinishReason): StreamPart {
    state.finished = true
    return { type: 'chunk', chunk: this.#chunk(index, this.#withRole(state, {}), reason) }
  }

  #withRole(state: ChoiceState, delta: Delta): Delta {
    if (state.roleSent) return delta
    state.roleSent = true
    return { role: 'assistant', ...delta }
  }

  #state(index: number): ChoiceState {
    let state = this.#choices.get(index)
    if (state === undefined) {
      state = { roleSent: false, toolCalls: 0, finished: false, text: '', cited: new Set() }
      this.#choices.set(index, state)
    }
    return state
  }

  #chunk(index: number, delta: Delta, finishReason: FinishReason | null): ChatCompletionChunk {
    return {
      id: this.#id ?? `chatcmpl-${this.#identity.fallbackId}`,
      object: 'chat.completion.chunk',
      created: this.#identity.created,
      model: this.#identity.model,
      choices: [{ index, delta, finish_reason: finishReason, logprobs: null }],
    }
  }

  #usageChunk(usage: CompletionUsage): ChatCompletionChunk {
    return {
      id: this.#id ?? `chatcmpl-${this.#identity.fallbackId}`,
      object: 'chat.completion.chunk',
      created: this.#identity.created,
      model: this.#identity.model,
      choices: [],
      usage,
    }
  }

  #fail(error: GatewayError): StreamPart[] {
    this.#failed = true
    return [{ type: 'error', error }]
  }
}
