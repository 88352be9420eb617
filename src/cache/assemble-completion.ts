/**
 * Folds a stream's chunks back into the chat completion an unstreamed request would have got, so
 * a streamed answer can be cached and later served to either kind of request. Text fields of a
 * delta (`content`, `refusal`, and providers' extras such as `reasoning_content`) are
 * concatenated, list fields (`thinking_blocks`) appended; tool calls are joined by their index,
 * their arguments concatenated.
 */
import type { ChatCompletion, ChatCompletionChunk, FinishReason } from '../core/chat.ts'

type ToolCall = NonNullable<ChatCompletion.Choice['message']['tool_calls']>[number]

interface ChoiceState {
  index: number
  text: Map<string, string>
  lists: Map<string, unknown[]>
  toolCalls: Map<number, { id: string; type: 'function'; name: string; arguments: string }>
  finishReason: FinishReason | null
}

export class CompletionAssembler {
  #id = ''
  #created = 0
  #model = ''
  #systemFingerprint: string | null | undefined
  #usage: ChatCompletion['usage']
  readonly #choices = new Map<number, ChoiceState>()

  add(chunk: ChatCompletionChunk): void {
    if (this.#id === '') {
      this.#id = chunk.id
      this.#created = chunk.created
      this.#model = chunk.model
    }
    if (chunk.system_fingerprint != null) this.#systemFingerprint = chunk.system_fingerprint
    if (chunk.usage) this.#usage = chunk.usage
    for (const choice of chunk.choices ?? []) {
      let state = this.#choices.get(choice.index)
      if (state === undefined) {
        state = {
          index: choice.index,
          text: new Map(),
          lists: new Map(),
          toolCalls: new Map(),
          finishReason: null,
        }
        this.#choices.set(choice.index, state)
      }
      if (choice.finish_reason) state.finishReason = choice.finish_reason
      const delta = (choice.delta ?? {}) as Record<string, unknown>
      for (const [field, value] of Object.entries(delta)) {
        if (field === 'role' || field === 'tool_calls') continue
        if (typeof value === 'string') state.text.set(field, (state.text.get(field) ?? '') + value)
        else if (Array.isArray(value))
          state.lists.set(field, [...(state.lists.get(field) ?? []), ...value])
      }
      for (const call of choice.delta?.tool_calls ?? []) {
        const known = state.toolCalls.get(call.index)
        if (known === undefined) {
          state.toolCalls.set(call.index, {
            id: call.id ?? '',
            type: 'function',
            name: call.function?.name ?? '',
            arguments: call.function?.arguments ?? '',
          })
          continue
        }
        if (call.id) known.id = call.id
        if (call.function?.name) known.name += call.function.name
        if (call.function?.arguments) known.arguments += call.function.arguments
      }
    }
  }

  /** Usage reported outside the chunks (the client did not ask to see it). */
  addUsage(usage: NonNullable<ChatCompletion['usage']>): void {
    this.#usage = usage
  }

  /** The assembled completion; undefined when no chunk arrived or a choice never finished. */
  completion(): ChatCompletion | undefined {
    if (this.#id === '' || this.#choices.size === 0) return undefined
    const choices: ChatCompletion.Choice[] = []
    for (const state of [...this.#choices.values()].sort((a, b) => a.index - b.index)) {
      if (state.finishReason === null) return undefined
      const { content, refusal, ...extra } = Object.fromEntries(state.text)
      const lists = Object.fromEntries(state.lists)
      const toolCalls: ToolCall[] = [...state.toolCalls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, call]) => ({
          id: call.id,
          type: call.type,
          function: { name: call.name, arguments: call.arguments },
        }))
      choices.push({
        index: state.index,
        message: {
          role: 'assistant',
          content: content ?? null,
          refusal: refusal ?? null,
          ...extra,
          ...lists,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: state.finishReason,
        logprobs: null,
      })
    }
    return {
      id: this.#id,
      object: 'chat.completion',
      created: this.#created,
      model: this.#model,
      choices,
      ...(this.#usage ? { usage: this.#usage } : {}),
      ...(this.#systemFingerprint == null ? {} : { system_fingerprint: this.#systemFingerprint }),
    }
  }
}
