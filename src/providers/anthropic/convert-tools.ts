/** OpenAI `tools`, `tool_choice` and `parallel_tool_calls` as Anthropic `tools` and `tool_choice`. */
import type {
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions'
import { GatewayError } from '../../core/errors.ts'
import { readCacheControl } from './cache-control.ts'
import { jsonResponseToolName } from './json-response-tool.ts'
import type { Tool, ToolChoice } from './types.ts'

export interface ToolOptions {
  tools: readonly ChatCompletionTool[] | undefined
  toolChoice: ChatCompletionToolChoiceOption | undefined
  parallelToolCalls: boolean | undefined
  /** The synthetic tool that carries a JSON answer (see json-response-tool.ts), if any. */
  jsonTool: Tool | undefined
}

export function convertTools(options: ToolOptions): { tools?: Tool[]; tool_choice?: ToolChoice } {
  let tools = (options.tools ?? []).map(convertTool)
  let choice = options.toolChoice
  if (typeof choice === 'object' && choice.type === 'allowed_tools') {
    // Anthropic has no allowed subset: offer only the allowed tools instead.
    const allowed = new Set(choice.allowed_tools.tools.map(toolName))
    tools = tools.filter((tool) => allowed.has(tool.name))
    choice = choice.allowed_tools.mode
  }
  const disableParallel = options.parallelToolCalls === false
  const { jsonTool } = options
  if (jsonTool !== undefined) {
    if (tools.some((tool) => tool.name === jsonTool.name)) {
      throw new GatewayError(
        'invalid_request',
        `The tool name '${jsonResponseToolName}' is reserved with response_format on Anthropic models`,
        { param: 'tools' },
      )
    }
    const forceJson = tools.length === 0 || choice === 'none'
    tools.push(jsonTool)
    if (forceJson) choice = { type: 'function', function: { name: jsonTool.name } }
    // With tools of its own, the model either calls one of them or answers with the JSON tool.
    else if (choice === undefined || choice === 'auto') choice = 'required'
  }
  if (tools.length === 0) return {}
  const mapped = convertChoice(choice, disableParallel)
  return mapped === undefined ? { tools } : { tools, tool_choice: mapped }
}

function convertTool(tool: ChatCompletionTool, index: number): Tool {
  if (tool.type !== 'function') {
    throw new GatewayError(
      'unsupported_parameter',
      `Tools of type '${tool.type}' are not supported for Anthropic models`,
      { param: `tools[${index}].type` },
    )
  }
  const { name, description, parameters, strict } = tool.function
  const converted: Tool = {
    name,
    input_schema: { type: 'object', ...parameters },
  }
  if (description !== undefined) converted.description = description
  if (typeof strict === 'boolean') converted.strict = strict
  // A breakpoint on the last tool caches every tool definition.
  const cache = readCacheControl(tool, `tools[${index}]`)
  if (cache !== undefined) converted.cache_control = cache.cache_control
  return converted
}

function toolName(entry: Record<string, unknown>): string | undefined {
  const inner = entry.function
  if (
    typeof inner === 'object' &&
    inner !== null &&
    'name' in inner &&
    typeof inner.name === 'string'
  ) {
    return inner.name
  }
  return typeof entry.name === 'string' ? entry.name : undefined
}

function convertChoice(
  choice: ChatCompletionToolChoiceOption | undefined,
  disableParallel: boolean,
): ToolChoice | undefined {
  const parallel = disableParallel ? { disable_parallel_tool_use: true } : {}
  if (choice === undefined || choice === 'auto') {
    return disableParallel ? { type: 'auto', ...parallel } : undefined
  }
  if (choice === 'none') return { type: 'none' }
  if (choice === 'required') return { type: 'any', ...parallel }
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name, ...parallel }
  throw new GatewayError(
    'unsupported_parameter',
    `tool_choice of type '${choice.type}' is not supported for Anthropic models`,
    { param: 'tool_choice' },
  )
}
