/**
 * OpenAI `tools` and `tool_choice` to Gemini `functionDeclarations` and `toolConfig`. Parameters
 * go in `parametersJsonSchema`, which takes any JSON Schema; `parameters` takes only Gemini's
 * OpenAPI subset and would reject schemas OpenAI accepts (`additionalProperties`, `$ref`, …).
 */
import type {
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions'
import { GatewayError } from '../../core/errors.ts'
import type { GeminiFunctionDeclaration, GeminiToolConfig } from './wire-types.ts'

export function toFunctionDeclarations(
  tools: readonly ChatCompletionTool[],
): GeminiFunctionDeclaration[] {
  return tools.map((tool, index) => {
    if (tool.type !== 'function') {
      throw new GatewayError(
        'unsupported_parameter',
        `Tools of type '${tool.type}' are not supported by this model; use function tools`,
        { param: `tools[${index}].type` },
      )
    }
    const { name, description, parameters } = tool.function
    const declaration: GeminiFunctionDeclaration = { name }
    if (description !== undefined) declaration.description = description
    if (parameters !== undefined) declaration.parametersJsonSchema = parameters
    return declaration
  })
}

export function toToolConfig(choice: ChatCompletionToolChoiceOption): GeminiToolConfig {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } }
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } }
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } }
  switch (choice.type) {
    case 'function':
      return {
        functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] },
      }
    case 'allowed_tools': {
      const names = choice.allowed_tools.tools.map((tool) => {
        const name = (tool as { function?: { name?: unknown } }).function?.name
        if (typeof name !== 'string') {
          throw new GatewayError('unsupported_parameter', 'Only function tools can be allowed', {
            param: 'tool_choice.allowed_tools.tools',
          })
        }
        return name
      })
      // VALIDATED: calls are limited to the allowed names, and plain text stays possible (OpenAI's 'auto').
      const mode = choice.allowed_tools.mode === 'required' ? 'ANY' : 'VALIDATED'
      return { functionCallingConfig: { mode, allowedFunctionNames: names } }
    }
    default:
      throw new GatewayError(
        'unsupported_parameter',
        `tool_choice of type '${choice.type}' is not supported by this model`,
        { param: 'tool_choice' },
      )
  }
}
