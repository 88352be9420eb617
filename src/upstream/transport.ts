import type { UpstreamRequest } from '../providers/types.ts'

export interface UpstreamResponse {
  status: number
  headers: Record<string, string | undefined>
  body: AsyncIterable<Uint8Array>
  /** Reads the whole body as text (error bodies, unstreamed responses). */
  text(): Promise<string>
}

export interface Transport {
  send(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResponse>
  close(): Promise<void>
}
