/** An Anthropic Message as an OpenAI chat completion: pure, body in, completion out. */
import type { ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions'
import type { ChatCompletion } from '../../core/chat.ts'
import { GatewayError } from '../../core/errors.ts'
import { joinFlat } from '../../core/flat-string.ts'
import { jsonResponseToolName } from './json-response-tool.ts'
import { providerLabel } from './map-error.ts'
import { mapFinishReason } from './map-finish-reason.ts'
import { mapUsage } from './map-usage.ts'
import type { Message, MessageWithReasoning, ThinkingBlock } from './types.ts'

export function fromAnthropicResponse(
  body: string,
  requestedModel: string,
  created: number,
): ChatCompletion {
  const message = parseMessage(body)
  let text = ''
  let reasoning = ''
  let jsonAnswer = false
  const toolCalls: ChatCompletionMessageFunctionToolCall[] = []
  const thinkingBlocks: ThinkingBlock[] = []
  for (const block of message.content) {
    if (block.type === 'text') text += block.text
    else if (block.type === 'thinking') {
      reasoning += block.thinking
      thinkingBlocks.push({
        type: 'thinking',
        thinking: block.thinking,
        signature: block.signature,
      })
    } else if (block.type === 'redacted_thinking') {
      thinkingBlocks.push({ type: 'redacted_thinking', data: block.data })
    } else if (block.type === 'tool_use') {
      const input = JSON.stringify(block.input ?? {})
      if (block.name === jsonResponseToolName) {
        text += input
        jsonAnswer = true
      } else {
        toolCalls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: input },
        })
      }
    }
    // Server-tool blocks have nothing an OpenAI client can read.
  }
  const reply: MessageWithReasoning = {
    role: 'assistant',
    content: text.length > 0 || toolCalls.length === 0 ? text : null,
    refusal: null,
  }
  if (reasoning.length > 0) reply.reasoning_content = reasoning
  if (thinkingBlocks.length > 0) reply.thinking_blocks = thinkingBlocks
  if (toolCalls.length > 0) reply.tool_calls = toolCalls
  return {
    id: joinFlat('chatcmpl-', message.id),
    object: 'chat.completion',
    created,
    model: requestedModel,
    choices: [
      {
        index: 0,
        message: reply,
        finish_reason: mapFinishReason(message.stop_reason, jsonAnswer && toolCalls.length === 0),
        logprobs: null,
      },
    ],
    usage: mapUsage(message.usage),
  }
}

function parseMessage(body: string): Message {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw new GatewayError(
      'upstream_error',
      `Upstream ${providerLabel} sent a body that is not JSON`,
    )
  }
  const candidate = parsed as Partial<Message> | null
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.id !== 'string' ||
    !Array.isArray(candidate.content) ||
    typeof candidate.usage !== 'object' ||
    candidate.usage === null
  ) {
    throw new GatewayError('upstream_error', `Upstream ${providerLabel} sent no message`)
  }
  return candidate as Message
}
