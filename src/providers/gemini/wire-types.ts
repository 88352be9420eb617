/**
 * Gemini's REST wire format, typed from the official SDK's part types. The SDK's high-level call
 * shape (`GenerateContentParameters`) is not the REST body, and its enums cannot be built from
 * type-only imports, so enum fields are re-typed as their string values.
 */
import type {
  BlockedReason,
  Candidate,
  Content,
  FinishReason,
  FunctionCallingConfig,
  FunctionCallingConfigMode,
  GenerateContentResponse,
  GenerateContentResponsePromptFeedback,
  GenerationConfig,
  SafetySetting,
  ThinkingConfig,
  ThinkingLevel,
  Tool,
  ToolConfig,
} from '@google/genai'

export type {
  Content as GeminiContent,
  FunctionCall as GeminiFunctionCall,
  FunctionDeclaration as GeminiFunctionDeclaration,
  GenerateContentResponseUsageMetadata as GeminiUsageMetadata,
  LogprobsResult as GeminiLogprobsResult,
  Part as GeminiPart,
} from '@google/genai'

export type GeminiFinishReason = `${FinishReason}`
export type GeminiBlockReason = `${BlockedReason}`
export type GeminiFunctionCallingMode = `${FunctionCallingConfigMode}`
export type GeminiThinkingLevel = `${ThinkingLevel}`

export interface GeminiThinkingConfig extends Omit<ThinkingConfig, 'thinkingLevel'> {
  thinkingLevel?: GeminiThinkingLevel
}

export interface GeminiGenerationConfig extends Omit<GenerationConfig, 'thinkingConfig'> {
  thinkingConfig?: GeminiThinkingConfig
}

export interface GeminiSafetySetting extends Omit<SafetySetting, 'category' | 'threshold'> {
  category: string
  threshold: string
}

export interface GeminiToolConfig extends Omit<ToolConfig, 'functionCallingConfig'> {
  functionCallingConfig?: Omit<FunctionCallingConfig, 'mode'> & { mode: GeminiFunctionCallingMode }
}

/** The body of `models/{model}:generateContent` and `:streamGenerateContent`. */
export interface GeminiRequestBody {
  contents: Content[]
  systemInstruction?: Content
  tools?: Tool[]
  toolConfig?: GeminiToolConfig
  safetySettings?: GeminiSafetySetting[]
  generationConfig?: GeminiGenerationConfig
}

export interface GeminiCandidate extends Omit<Candidate, 'finishReason'> {
  finishReason?: GeminiFinishReason
}

export interface GeminiPromptFeedback
  extends Omit<GenerateContentResponsePromptFeedback, 'blockReason'> {
  blockReason?: GeminiBlockReason
}

/** One unstreamed response, or one event of a stream. */
export interface GeminiResponse
  extends Pick<GenerateContentResponse, 'responseId' | 'modelVersion' | 'usageMetadata'> {
  candidates?: GeminiCandidate[]
  promptFeedback?: GeminiPromptFeedback
}

/** `{ error: { code, message, status, details } }`, Google's RPC status rendered as JSON. */
export interface GeminiErrorBody {
  error: {
    code?: number
    message?: string
    status?: string
    details?: { '@type'?: string; reason?: string; retryDelay?: string }[]
  }
}
