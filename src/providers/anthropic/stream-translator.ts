/**
 * Anthropic stream events as `chat.completion.chunk` parts, one event in and its parts out at
 * once (nothing is held back). Tool calls get OpenAI indexes 0, 1, 2… in call order, whatever
 * their content-block index; the JSON-answer tool streams as plain content.
 */
import type { ChatCompletionChunk, StreamPart } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { joinFlat } from '../../core/flat-string.ts'
import type { SseEvent, StreamTranslator } from '../types.ts'
import { jsonResponseToolName } from './json-response-tool.ts'
import { mapStreamError, providerLabel } from './map-error.ts'
import { mapFinishReason } from './map-finish-reason.ts'
import { type AnthropicTokenCounts, mapUsage } from './map-usage.ts'
import type { DeltaWithReasoning, RawMessageStreamEvent, StopReason } from './types.ts'

type Block =
  | { kind: 'text' | 'json' | 'ignored' }
  | { kind: 'tool'; toolIndex: number }
  /** Text and signature gathered until the block stops, then sent whole as `thinking_blocks`. */
  | { kind: 'thinking'; thinking: string; signature: string }
  | { kind: 'redacted'; data: string }

export interface StreamTranslatorOptions {
  requestedModel: string
  clientWantsUsage: boolean
  /** Seconds since the epoch, for `created`. */
  created: number
  secrets: readonly string[]
}

export function createStreamTranslator(options: StreamTranslatorOptions): StreamTranslator {
  return new AnthropicStreamTranslator(options)
}

class AnthropicStreamTranslator implements StreamTranslator {
  readonly #options: StreamTranslatorOptions
  #id = 'chatcmpl-anthropic'
  readonly #blocks = new Map<number, Block>()
  #toolCount = 0
  #answeredWithJsonTool = false
  // Anthropic reports input tokens in message_start and output tokens in message_delta; the
  // usage chunk needs both.
  readonly #usage: AnthropicTokenCounts = { input_tokens: 0, output_tokens: 0 }
  #stopReason: StopReason | null = null
  #finishSent = false
  #state: 'open' | 'stopped' | 'failed' = 'open'

  constructor(options: StreamTranslatorOptions) {
    this.#options = options
  }

  push(event: SseEvent): StreamPart[] {
    if (this.#state !== 'open' || event.data.length === 0) return []
    let parsed: { type?: unknown }
    try {
      parsed = JSON.parse(event.data) as { type?: unknown }
    } catch {
      return this.#fail(`Upstream ${providerLabel} sent a stream event that is not JSON`)
    }
    const type = typeof parsed.type === 'string' ? parsed.type : event.event
    if (type === 'error') {
      this.#state = 'failed'
      return [{ type: 'error', error: mapStreamError(event.data, this.#options.secrets) }]
    }
    try {
      return this.#translate(parsed as RawMessageStreamEvent)
    } catch {
      return this.#fail(`Upstream ${providerLabel} sent a malformed '${String(type)}' event`)
    }
  }

  end(): StreamPart[] {
    if (this.#state !== 'open') return []
    return this.#fail(`Upstream ${providerLabel} ended the stream before message_stop`)
  }

  #translate(event: RawMessageStreamEvent): StreamPart[] {
    switch (event.type) {
      case 'message_start': {
        this.#id = joinFlat('chatcmpl-', event.message.id)
        Object.assign(this.#usage, pickCounts(event.message.usage))
        return [this.#chunk({ role: 'assistant', content: '' })]
      }
      case 'content_block_start':
        return this.#startBlock(event.index, event.content_block)
      case 'content_block_delta':
        return this.#delta(event.index, event.delta)
      case 'content_block_stop':
        return this.#stopBlock(event.index)
      case 'message_delta': {
        this.#stopReason = event.delta.stop_reason ?? this.#stopReason
        Object.assign(this.#usage, pickCounts(event.usage))
        return [this.#finishChunk()]
      }
      case 'message_stop': {
        this.#state = 'stopped'
        const parts: StreamPart[] = this.#finishSent ? [] : [this.#finishChunk()]
        const usage = mapUsage(this.#usage)
        if (this.#options.clientWantsUsage) {
          parts.push({ type: 'chunk', chunk: { ...this.#chunk({}).chunk, choices: [], usage } })
        } else {
          parts.push({ type: 'usage', usage })
        }
        return parts
      }
      default:
        // ping, and event types added later, carry nothing for the client.
        return []
    }
  }

  #startBlock(
    index: number,
    block: Extract<RawMessageStreamEvent, { type: 'content_block_start' }>['content_block'],
  ): StreamPart[] {
    switch (block.type) {
      case 'text':
        this.#blocks.set(index, { kind: 'text' })
        return block.text.length > 0 ? [this.#chunk({ content: block.text })] : []
      case 'thinking':
        this.#blocks.set(index, {
          kind: 'thinking',
          thinking: block.thinking,
          signature: block.signature,
        })
        return block.thinking.length > 0 ? [this.#chunk({ reasoning_content: block.thinking })] : []
      case 'redacted_thinking':
        this.#blocks.set(index, { kind: 'redacted', data: block.data })
        return []
      case 'tool_use': {
        if (block.name === jsonResponseToolName) {
          this.#answeredWithJsonTool = true
          this.#blocks.set(index, { kind: 'json' })
          return []
        }
        const toolIndex = this.#toolCount++
        this.#blocks.set(index, { kind: 'tool', toolIndex })
        return [
          this.#chunk({
            tool_calls: [
              {
                index: toolIndex,
                id: block.id,
                type: 'function',
                function: { name: block.name, arguments: '' },
              },
            ],
          }),
        ]
      }
      default:
        this.#blocks.set(index, { kind: 'ignored' })
        return []
    }
  }

  #delta(
    index: number,
    delta: Extract<RawMessageStreamEvent, { type: 'content_block_delta' }>['delta'],
  ): StreamPart[] {
    const block = this.#blocks.get(index)
    switch (delta.type) {
      case 'text_delta':
        return delta.text.length > 0 ? [this.#chunk({ content: delta.text })] : []
      case 'thinking_delta':
        if (block?.kind === 'thinking') block.thinking += delta.thinking
        return delta.thinking.length > 0 ? [this.#chunk({ reasoning_content: delta.thinking })] : []
      case 'signature_delta':
        if (block?.kind === 'thinking') block.signature += delta.signature
        return []
      case 'input_json_delta': {
        if (delta.partial_json.length === 0 || block === undefined) return []
        if (block.kind === 'json') return [this.#chunk({ content: delta.partial_json })]
        if (block.kind !== 'tool') return []
        return [
          this.#chunk({
            tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }],
          }),
        ]
      }
      default:
        // citations_delta has no OpenAI counterpart.
        return []
    }
  }

  #stopBlock(index: number): StreamPart[] {
    const block = this.#blocks.get(index)
    if (block?.kind === 'thinking') {
      const { thinking, signature } = block
      return [this.#chunk({ thinking_blocks: [{ type: 'thinking', thinking, signature }] })]
    }
    if (block?.kind === 'redacted') {
      return [this.#chunk({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] })]
    }
    return []
  }

  #finishChunk(): StreamPart {
    this.#finishSent = true
    const onlyJson = this.#answeredWithJsonTool && this.#toolCount === 0
    return this.#chunk({}, mapFinishReason(this.#stopReason, onlyJson))
  }

  #chunk(
    delta: DeltaWithReasoning,
    finishReason: ChatCompletionChunk.Choice['finish_reason'] = null,
  ): { type: 'chunk'; chunk: ChatCompletionChunk } {
    return {
      type: 'chunk',
      chunk: {
        id: this.#id,
        object: 'chat.completion.chunk',
        created: this.#options.created,
        model: this.#options.requestedModel,
        choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
      },
    }
  }

  #fail(message: string): StreamPart[] {
    this.#state = 'failed'
    return [{ type: 'error', error: new GatewayError('upstream_error', message) }]
  }
}

/** The counts an event carries; message_delta repeats input counts as null or cumulative. */
function pickCounts(
  usage: Partial<AnthropicTokenCounts> | null | undefined,
): Partial<AnthropicTokenCounts> {
  const counts: Partial<AnthropicTokenCounts> = {}
  if (usage === null || usage === undefined) return counts
  if (typeof usage.input_tokens === 'number') counts.input_tokens = usage.input_tokens
  if (typeof usage.output_tokens === 'number') counts.output_tokens = usage.output_tokens
  if (typeof usage.cache_read_input_tokens === 'number') {
    counts.cache_read_input_tokens = usage.cache_read_input_tokens
  }
  if (typeof usage.cache_creation_input_tokens === 'number') {
    counts.cache_creation_input_tokens = usage.cache_creation_input_tokens
  }
  if (usage.output_tokens_details) counts.output_tokens_details = usage.output_tokens_details
  return counts
}
