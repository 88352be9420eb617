/**
 * The glue between the chat handler and the cache: what an entry holds, how a stream is copied
 * into one while it is written, and how an entry is played back as a stream.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ChatCompletion, StreamPart } from '../core/chat.ts'
import type { CompletionAssembler } from './assemble-completion.ts'
import { replayCompletion } from './replay-completion.ts'

export interface CacheEntry {
  provider: string
  upstream_model: string
  completion: ChatCompletion
}

/** An entry's text, from the answer's JSON as it was sent (no parse, no re-serialisation). */
export function entryText(provider: string, upstreamModel: string, completionJson: string): string {
  return `{"provider":${JSON.stringify(provider)},"upstream_model":${JSON.stringify(upstreamModel)},"completion":${completionJson}}`
}

/** An entry read back; undefined for text that is not one (a foreign value under our prefix). */
export function readEntry(text: string): CacheEntry | undefined {
  try {
    const entry = JSON.parse(text) as Partial<CacheEntry> | null
    if (typeof entry?.provider !== 'string' || typeof entry.upstream_model !== 'string') return
    if (!Array.isArray(entry.completion?.choices)) return
    return entry as CacheEntry
  } catch {
    return undefined
  }
}

/** `x-switchyard-cache-force-refresh: true` (or Portkey's header): skip the lookup, store anew. */
export function forcesRefresh(headers: IncomingHttpHeaders): boolean {
  const value =
    headers['x-switchyard-cache-force-refresh'] ?? headers['x-portkey-cache-force-refresh']
  return value === 'true'
}

/** Passes a stream's parts on unchanged while folding its chunks into `assembler`. */
export async function* copyInto(
  parts: AsyncIterable<StreamPart>,
  assembler: CompletionAssembler,
): AsyncIterable<StreamPart> {
  for await (const part of parts) {
    if (part.type === 'chunk') assembler.add(part.chunk)
    else if (part.type === 'raw') assembler.add(JSON.parse(part.data))
    else if (part.type === 'usage') assembler.addUsage(part.usage)
    yield part
  }
}

export async function* replayParts(
  completion: ChatCompletion,
  includeUsage: boolean,
): AsyncIterable<StreamPart> {
  for (const chunk of replayCompletion(completion, includeUsage)) yield { type: 'chunk', chunk }
}
