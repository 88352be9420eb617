/**
 * The embedded default: the mock model, so the gateway answers with no upstream at all, plus
 * OpenAI's models when `OPENAI_API_KEY` is set. It has no configured keys: the server generates
 * one at first start (see `src/server/auth.ts`), so it is never an open relay.
 */
export function defaultConfigSource(environment: NodeJS.ProcessEnv): string {
  const lines = [
    'providers:',
    '  mock: { kind: mock }',
    'models:',
    '  - id: mock-echo',
    '    type: text-generation',
    '    aliases: [mock]',
    '    owned_by: switchyard',
    '    max_context_length: 32768',
    '    route: { provider: mock, model: mock-echo }',
  ]
  if (environment.OPENAI_API_KEY) {
    const baseUrl = environment.OPENAI_BASE_URL || 'https://api.openai.com/v1'
    const provider = { kind: 'openai', base_url: baseUrl, api_key: environment.OPENAI_API_KEY }
    lines.splice(2, 0, `  openai: ${JSON.stringify(provider)}`)
    const openaiModels: [string, string, number, number, number][] = [
      ['gpt-4o-mini', 'image-text-to-text', 128000, 0.15, 0.6],
      ['gpt-4o', 'image-text-to-text', 128000, 2.5, 10],
      ['gpt-4.1-mini', 'image-text-to-text', 1047576, 0.4, 1.6],
      ['gpt-4.1', 'image-text-to-text', 1047576, 2, 8],
    ]
    for (const [id, type, context, prompt, completion] of openaiModels) {
      lines.push(
        `  - { id: ${id}, type: ${type}, owned_by: openai, max_context_length: ${context}, costs: { prompt_tokens: ${prompt}, completion_tokens: ${completion} }, route: { provider: openai, model: ${id} } }`,
      )
    }
  }
  return `${lines.join('\n')}\n`
}
