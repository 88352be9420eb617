/**
 * `response_format` without a strict schema has no native Anthropic equivalent: structured
 * outputs (`output_config.format`) need a closed schema. The documented alternative is a tool
 * whose input is the answer, forced with `tool_choice`; its input is then handed to the client as
 * the message content. The tool is recognised by name in responses, so adapters stay stateless.
 */
import type { Tool } from './types.ts'

export const jsonResponseToolName = 'json_response'

export function jsonResponseTool(
  schema: Record<string, unknown> | undefined,
  description?: string,
): Tool {
  return {
    name: jsonResponseToolName,
    description:
      description ?? 'Respond with your final answer as the input of this tool, as a JSON object.',
    input_schema: { type: 'object', ...schema },
  }
}
