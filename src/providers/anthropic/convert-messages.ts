/**
 * OpenAI messages as Anthropic's `system` and alternating turns. System and developer messages
 * are hoisted into `system` in order (Anthropic has no mid-conversation system role); tool
 * results become `tool_result` blocks of a user turn; consecutive same-role turns are merged,
 * because Anthropic wants user and assistant to alternate.
 */
import type {
  ChatCompletionContentPart,
  ChatCompletionContentPartRefusal,
  ChatCompletionContentPartText,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions'
import { GatewayError } from '../../core/errors.ts'
import { readCacheControl } from './cache-control.ts'
import { convertImage, readDataUrl } from './convert-image.ts'
import type { AnthropicTurn, ContentBlockParam, MessageParam, TextBlockParam } from './types.ts'

export interface ConvertedMessages {
  system: string | TextBlockParam[] | undefined
  messages: MessageParam[]
}

export function convertMessages(input: readonly ChatCompletionMessageParam[]): ConvertedMessages {
  const system: TextBlockParam[] = []
  const turns: AnthropicTurn[] = []
  input.forEach((message, index) => {
    const param = `messages[${index}]`
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...withMessageBreakpoint(textBlocks(message.content, param), message, param))
        return
      case 'user':
        appendTurn(
          turns,
          'user',
          withMessageBreakpoint(userBlocks(message.content, param), message, param),
        )
        return
      case 'assistant':
        appendTurn(
          turns,
          'assistant',
          withMessageBreakpoint(assistantBlocks(message, param), message, param),
        )
        return
      case 'tool': {
        const blocks = textBlocks(message.content, param)
        const only = blocks.length === 1 ? blocks[0]! : undefined
        appendTurn(
          turns,
          'user',
          withMessageBreakpoint(
            [
              {
                type: 'tool_result',
                tool_use_id: message.tool_call_id,
                content:
                  only !== undefined && only.cache_control === undefined ? only.text : blocks,
              },
            ],
            message,
            param,
          ),
        )
        return
      }
      default:
        throw new GatewayError(
          'unsupported_parameter',
          `The '${message.role}' role is not supported for Anthropic models; send tool results as 'tool' messages`,
          { param: `${param}.role` },
        )
    }
  })
  const onlySystem = system.length === 1 ? system[0]! : undefined
  return {
    system:
      system.length === 0
        ? undefined
        : onlySystem !== undefined && onlySystem.cache_control === undefined
          ? onlySystem.text
          : system,
    messages: turns.map((turn) => ({ role: turn.role, content: orderToolResultsFirst(turn) })),
  }
}

function appendTurn(
  turns: AnthropicTurn[],
  role: AnthropicTurn['role'],
  blocks: ContentBlockParam[],
): void {
  // Anthropic rejects empty turns; an assistant message with no text and no calls says nothing.
  if (blocks.length === 0) return
  const last = turns.at(-1)
  if (last?.role === role) last.content.push(...blocks)
  else turns.push({ role, content: blocks })
}

/** In a user turn, tool results must come before any other content. */
function orderToolResultsFirst(turn: AnthropicTurn): ContentBlockParam[] {
  if (turn.role !== 'user' || turn.content.every((block) => block.type !== 'tool_result')) {
    return turn.content
  }
  const results = turn.content.filter((block) => block.type === 'tool_result')
  const others = turn.content.filter((block) => block.type !== 'tool_result')
  return [...results, ...others]
}

/**
 * A `cache_control` on the message itself (as some clients put it) marks the message's last
 * block; thinking blocks cannot carry one, so a message that ends in thinking gets none.
 */
function withMessageBreakpoint<Block extends ContentBlockParam>(
  blocks: Block[],
  message: object,
  param: string,
): Block[] {
  const cache = readCacheControl(message, param)
  const last = blocks.at(-1)
  if (cache === undefined || last === undefined) return blocks
  if (last.type === 'thinking' || last.type === 'redacted_thinking') return blocks
  return [...blocks.slice(0, -1), { ...last, ...cache }]
}

/** Text content as text blocks, each part's cache breakpoint kept. */
function textBlocks(
  content: string | readonly ChatCompletionContentPartText[] | null | undefined,
  param: string,
): TextBlockParam[] {
  if (content === null || content === undefined) return []
  if (typeof content === 'string')
    return content.length === 0 ? [] : [{ type: 'text', text: content }]
  return content.map((part, index) => {
    const partParam = `${param}.content[${index}]`
    if (part.type !== 'text') throw unsupportedPart(part.type, partParam)
    return { type: 'text', text: part.text, ...readCacheControl(part, partParam) }
  })
}

function userBlocks(
  content: string | readonly ChatCompletionContentPart[],
  param: string,
): ContentBlockParam[] {
  if (typeof content === 'string')
    return content.length === 0 ? [] : [{ type: 'text', text: content }]
  return content.map((part, index): ContentBlockParam => {
    const partParam = `${param}.content[${index}]`
    const cache = readCacheControl(part, partParam)
    switch (part.type) {
      case 'text':
        return { type: 'text', text: part.text, ...cache }
      case 'image_url':
        return { ...convertImage(part.image_url.url, `${partParam}.image_url.url`), ...cache }
      case 'file': {
        const file =
          part.file.file_data === undefined ? undefined : readDataUrl(part.file.file_data)
        if (file?.mediaType !== 'application/pdf') {
          throw new GatewayError(
            'unsupported_parameter',
            `Only PDF files sent inline as base64 data URLs are supported for Anthropic models`,
            { param: `${partParam}.file` },
          )
        }
        return {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: file.data },
          ...cache,
        }
      }
      default:
        throw unsupportedPart(part.type, partParam)
    }
  })
}

function assistantBlocks(
  message: Extract<ChatCompletionMessageParam, { role: 'assistant' }>,
  param: string,
): ContentBlockParam[] {
  // Thinking comes first in an assistant turn, as Claude wrote it.
  const blocks: ContentBlockParam[] = thinkingBlocks(message, param)
  const { content } = message
  if (typeof content === 'string') {
    if (content.length > 0) blocks.push({ type: 'text', text: content })
  } else if (content) {
    content.forEach(
      (part: ChatCompletionContentPartText | ChatCompletionContentPartRefusal, index) => {
        const text =
          part.type === 'text' ? part.text : part.type === 'refusal' ? part.refusal : undefined
        if (text === undefined)
          throw unsupportedPart((part as { type: string }).type, `${param}.content[${index}]`)
        const partParam = `${param}.content[${index}]`
        if (text.length > 0)
          blocks.push({ type: 'text', text, ...readCacheControl(part, partParam) })
      },
    )
  }
  if (message.function_call) {
    throw new GatewayError(
      'unsupported_parameter',
      `'function_call' is not supported for Anthropic models; use 'tool_calls'`,
      { param: `${param}.function_call` },
    )
  }
  message.tool_calls?.forEach((call, index) => {
    const callParam = `${param}.tool_calls[${index}]`
    if (call.type !== 'function') {
      throw new GatewayError(
        'unsupported_parameter',
        `Tool calls of type '${call.type}' are not supported for Anthropic models`,
        { param: `${callParam}.type` },
      )
    }
    blocks.push({
      type: 'tool_use',
      id: call.id,
      name: call.function.name,
      input: parseArguments(call.function.arguments, `${callParam}.function.arguments`),
    })
  })
  return blocks
}

/** The `thinking_blocks` a client sends back on an assistant message, checked, in order. */
function thinkingBlocks(message: object, param: string): ContentBlockParam[] {
  const sent = (message as { thinking_blocks?: unknown }).thinking_blocks
  if (sent === undefined || sent === null) return []
  if (!Array.isArray(sent)) {
    throw new GatewayError('invalid_request', `'${param}.thinking_blocks' must be an array`, {
      param: `${param}.thinking_blocks`,
    })
  }
  return sent.map((block: unknown, index): ContentBlockParam => {
    const candidate = (block ?? {}) as Record<string, unknown>
    if (
      candidate.type === 'thinking' &&
      typeof candidate.thinking === 'string' &&
      typeof candidate.signature === 'string'
    ) {
      return { type: 'thinking', thinking: candidate.thinking, signature: candidate.signature }
    }
    if (candidate.type === 'redacted_thinking' && typeof candidate.data === 'string') {
      return { type: 'redacted_thinking', data: candidate.data }
    }
    const blockParam = `${param}.thinking_blocks[${index}]`
    throw new GatewayError(
      'invalid_request',
      `'${blockParam}' must be {type: 'thinking', thinking, signature} or {type: 'redacted_thinking', data}, as the gateway returned it`,
      { param: blockParam },
    )
  })
}

/** Anthropic takes a tool call's input as an object, OpenAI sends it as JSON text. */
function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim().length === 0) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError('invalid_request', `Invalid JSON in '${param}'`, { param })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', `'${param}' must be a JSON object`, { param })
  }
  return parsed as Record<string, unknown>
}

function unsupportedPart(type: string, param: string): GatewayError {
  return new GatewayError(
    'unsupported_parameter',
    `Content parts of type '${type}' are not supported for Anthropic models`,
    { param: `${param}.type` },
  )
}
