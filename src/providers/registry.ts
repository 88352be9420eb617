/** Every provider kind the gateway knows. Adding a kind is one line here and one folder. */
import { z } from 'zod'
import { anthropicProvider } from './anthropic/index.ts'
import { azureOpenAIProvider } from './azure-openai/index.ts'
import { geminiProvider } from './gemini/index.ts'
import { mockProvider } from './mock/index.ts'
import { openaiProvider } from './openai/index.ts'
import type { ProviderDefinition } from './types.ts'

const definitions = [
  openaiProvider,
  mockProvider,
  anthropicProvider,
  azureOpenAIProvider,
  geminiProvider,
] as const

type Definition = (typeof definitions)[number]
export type ProviderConfig = Definition extends ProviderDefinition<infer Config> ? Config : never

const byKind = new Map<string, ProviderDefinition>(
  definitions.map((definition) => [definition.kind, definition as unknown as ProviderDefinition]),
)
const kinds = [...byKind.keys()] as [string, ...string[]]

/** Checks `kind` first, so a typo names the kinds there are, then the kind's own schema. */
export const providerConfigSchema = z
  .looseObject({ kind: z.enum(kinds) })
  .transform((value, context): ProviderConfig => {
    const result = byKind.get(value.kind)!.configSchema.safeParse(value)
    if (result.success) return result.data as ProviderConfig
    for (const issue of result.error.issues) {
      context.addIssue({ code: 'custom', message: issue.message, path: issue.path })
    }
    return z.NEVER
  })

export function providerDefinition(kind: string): ProviderDefinition {
  const definition = byKind.get(kind)
  if (definition === undefined) throw new Error(`Unknown provider kind ${kind}`)
  return definition
}
