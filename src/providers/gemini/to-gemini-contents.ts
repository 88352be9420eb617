/**
 * OpenAI messages to Gemini `contents` and `systemInstruction`. Gemini wants user and model turns
 * to alternate, so consecutive contents of one role are merged; tool results become
 * `functionResponse` parts of a user turn, named after the assistant call they answer.
 */
import type {
  ChatCompletionAssistantMessageParam,
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions'
import { GatewayError } from '../../core/errors.ts'
import { guessMimeType, readDataUrl, urlToPart } from './media-part.ts'
import { readThoughtSignature } from './thought-signature.ts'
import type { GeminiContent, GeminiPart } from './wire-types.ts'

export interface GeminiConversation {
  contents: GeminiContent[]
  systemInstruction?: GeminiContent
}

/**
 * Gemini 3 refuses a function call it did not sign in history; Google documents this value for
 * histories whose signatures were lost (another model, or a client that dropped them).
 */
export const skipSignatureValidation = 'skip_thought_signature_validator'

export function toGeminiContents(
  messages: readonly ChatCompletionMessageParam[],
  dropped: Set<string>,
): GeminiConversation {
  const contents: GeminiContent[] = []
  const systemParts: GeminiPart[] = []
  const callNames = new Map<string, string>()

  const append = (role: 'user' | 'model', parts: GeminiPart[]) => {
    if (parts.length === 0) return
    const last = contents.at(-1)
    if (last?.role === role) last.parts = [...(last.parts ?? []), ...parts]
    else contents.push({ role, parts })
  }

  messages.forEach((message, index) => {
    const param = `messages[${index}]`
    if ('name' in message && message.name !== undefined) dropped.add('messages.name')
    switch (message.role) {
      case 'system':
      case 'developer':
        systemParts.push(...textParts(message.content, `${param}.content`))
        return
      case 'user':
        append('user', userParts(message.content, `${param}.content`))
        return
      case 'assistant':
        append('model', assistantParts(message, param, callNames))
        return
      case 'tool': {
        const name = callNames.get(message.tool_call_id)
        if (name === undefined) {
          throw new GatewayError(
            'invalid_request',
            `'${param}.tool_call_id' (${message.tool_call_id}) answers no earlier assistant tool call`,
            { param: `${param}.tool_call_id` },
          )
        }
        const text = joinText(message.content, `${param}.content`)
        append('user', [{ functionResponse: { name, response: toolResponse(text) } }])
        return
      }
      default:
        throw new GatewayError(
          'unsupported_parameter',
          `Messages with role '${message.role}' are not supported by this model; use tools and tool messages`,
          { param: `${param}.role` },
        )
    }
  })

  const conversation: GeminiConversation = { contents }
  if (systemParts.length > 0) conversation.systemInstruction = { parts: systemParts }
  return conversation
}

function textParts(
  content: string | readonly { type: string; text?: string }[],
  param: string,
): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : []
  return content.map((part, index) => {
    if (part.type !== 'text' || typeof part.text !== 'string') {
      throw new GatewayError(
        'invalid_request',
        `'${param}[${index}]' must be a text part here, not '${part.type}'`,
        { param: `${param}[${index}]` },
      )
    }
    return { text: part.text }
  })
}

function joinText(
  content: string | readonly { type: string; text?: string }[],
  param: string,
): string {
  if (typeof content === 'string') return content
  return textParts(content, param)
    .map((part) => part.text)
    .join('')
}

function userParts(
  content: string | readonly ChatCompletionContentPart[],
  param: string,
): GeminiPart[] {
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : []
  return content.map((part, index): GeminiPart => {
    const partParam = `${param}[${index}]`
    switch (part.type) {
      case 'text':
        return { text: part.text }
      case 'image_url':
        return urlToPart(part.image_url.url, `${partParam}.image_url.url`)
      case 'input_audio':
        return {
          inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data },
        }
      case 'file':
        return filePart(part.file, `${partParam}.file`)
      default:
        throw new GatewayError(
          'invalid_request',
          `Unsupported content part type '${(part as { type: string }).type}'`,
          { param: `${partParam}.type` },
        )
    }
  })
}

function filePart(
  file: { file_data?: string; file_id?: string; filename?: string },
  param: string,
): GeminiPart {
  if (file.file_data === undefined) {
    // An OpenAI file id names a file in OpenAI's store, which Gemini cannot reach.
    throw new GatewayError(
      'unsupported_parameter',
      `'${param}.file_id' is not supported by this model; send the file as file_data`,
      { param: `${param}.file_id` },
    )
  }
  if (file.file_data.startsWith('data:')) {
    return { inlineData: readDataUrl(file.file_data, `${param}.file_data`) }
  }
  const mimeType = guessMimeType(file.filename ?? '') ?? 'application/pdf'
  return { inlineData: { mimeType, data: file.file_data } }
}

function assistantParts(
  message: ChatCompletionAssistantMessageParam,
  param: string,
  callNames: Map<string, string>,
): GeminiPart[] {
  const parts: GeminiPart[] = []
  const { content } = message
  if (typeof content === 'string') {
    if (content.length > 0) parts.push({ text: content })
  } else if (Array.isArray(content)) {
    content.forEach((part, index) => {
      if (part.type === 'text') parts.push({ text: part.text })
      else if (part.type === 'refusal') parts.push({ text: part.refusal })
      else
        throw new GatewayError('invalid_request', `Unsupported assistant content part`, {
          param: `${param}.content[${index}]`,
        })
    })
  }
  message.tool_calls?.forEach((call, index) => {
    const callParam = `${param}.tool_calls[${index}]`
    if (call.type !== 'function') {
      throw new GatewayError('unsupported_parameter', `Only function tool calls are supported`, {
        param: `${callParam}.type`,
      })
    }
    callNames.set(call.id, call.function.name)
    const part: GeminiPart = {
      functionCall: {
        name: call.function.name,
        args: parseArguments(call.function.arguments, `${callParam}.function.arguments`),
      },
    }
    // Only the first call of a turn carries the signature of the turn's thinking.
    const signature = readThoughtSignature(call)
    if (signature !== undefined) part.thoughtSignature = signature
    else if (index === 0) part.thoughtSignature = skipSignatureValidation
    parts.push(part)
  })
  return parts
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  if (text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new GatewayError('invalid_request', `'${param}' is not valid JSON`, { param })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('invalid_request', `'${param}' must be a JSON object`, { param })
  }
  return parsed as Record<string, unknown>
}

/** A tool's output as Gemini's `response` object: a JSON object as is, anything else wrapped. */
export function toolResponse(text: string): Record<string, unknown> {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(text)
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return parsed as Record<string, unknown>
      }
    } catch {}
  }
  return { content: text }
}
