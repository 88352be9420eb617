/**
 * A cached completion served to a streamed request: per choice, one chunk with the whole message
 * (role, text fields, tool calls with their ids and full arguments), then one chunk with the
 * finish reasons, then the usage chunk when the client asked for it (`stream_options`).
 */
import type { ChatCompletion, ChatCompletionChunk } from '../core/chat.ts'

export function replayCompletion(
  completion: ChatCompletion,
  includeUsage: boolean,
): ChatCompletionChunk[] {
  const base = {
    id: completion.id,
    object: 'chat.completion.chunk' as const,
    created: completion.created,
    model: completion.model,
    ...(completion.system_fingerprint == null
      ? {}
      : { system_fingerprint: completion.system_fingerprint }),
  }
  const chunks: ChatCompletionChunk[] = completion.choices.map((choice) => {
    const {
      role: _role,
      tool_calls: toolCalls,
      ...text
    } = choice.message as ChatCompletion.Choice['message'] & Record<string, unknown>
    const fields: Record<string, unknown> = {}
    for (const [field, value] of Object.entries(text)) if (value !== null) fields[field] = value
    return {
      ...base,
      choices: [
        {
          index: choice.index,
          delta: {
            role: 'assistant',
            ...fields,
            ...(toolCalls === undefined
              ? {}
              : {
                  // Chunks carry function calls only; a custom tool call has no streamed form.
                  tool_calls: toolCalls.flatMap((call, index) =>
                    call.type === 'function'
                      ? [
                          {
                            index,
                            id: call.id,
                            type: 'function' as const,
                            function: {
                              name: call.function.name,
                              arguments: call.function.arguments,
                            },
                          },
                        ]
                      : [],
                  ),
                }),
          },
          finish_reason: null,
          logprobs: null,
        },
      ],
    }
  })
  chunks.push({
    ...base,
    choices: completion.choices.map((choice) => ({
      index: choice.index,
      delta: {},
      finish_reason: choice.finish_reason,
      logprobs: null,
    })),
  })
  if (includeUsage && completion.usage)
    chunks.push({ ...base, choices: [], usage: completion.usage })
  return chunks
}
