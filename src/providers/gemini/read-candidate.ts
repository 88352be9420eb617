/** Splits a Gemini candidate's parts into answer text, thought text and function calls. */
import type { ChatCompletionMessageFunctionToolCall } from 'openai/resources/chat/completions'
import { type ThoughtSignatureCarrier, withThoughtSignature } from './thought-signature.ts'
import type { GeminiCandidate } from './wire-types.ts'

export type ToolCall = ChatCompletionMessageFunctionToolCall & ThoughtSignatureCarrier

export interface CandidateParts {
  text: string | undefined
  reasoning: string | undefined
  toolCalls: ToolCall[]
}

/** `newCallId` names a call Gemini gave no id; it is called once per call, in order. */
export function readCandidate(candidate: GeminiCandidate, newCallId: () => string): CandidateParts {
  let text: string | undefined
  let reasoning: string | undefined
  const toolCalls: ToolCall[] = []
  for (const part of candidate.content?.parts ?? []) {
    if (part.functionCall !== undefined) {
      const call = {
        id: part.functionCall.id ?? newCallId(),
        type: 'function' as const,
        function: {
          name: part.functionCall.name ?? '',
          arguments: JSON.stringify(part.functionCall.args ?? {}),
        },
      }
      toolCalls.push(withThoughtSignature(call, part.thoughtSignature))
    } else if (typeof part.text === 'string' && part.text.length > 0) {
      if (part.thought === true) reasoning = (reasoning ?? '') + part.text
      else text = (text ?? '') + part.text
    }
  }
  return { text, reasoning, toolCalls }
}
