/**
 * Starts a real gateway on loopback with a given store and admin key, capturing its log lines,
 * plus small clients for the admin API (fetch) and the chat API (the openai SDK).
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { pino } from 'pino'
import { parseConfig } from '../../src/config/load.ts'
import { type RunningGateway, startGateway } from '../../src/start.ts'

export const adminKey = 'sy-admin-test-0123456789abcdef'
export const configKey = 'sk-test-alice-0123456789abcdef'

export interface StoreGateway extends RunningGateway {
  /** Every log line the gateway wrote. */
  logs: string[]
  clientFor(key: string): OpenAI
  admin(
    method: string,
    path: string,
    body?: unknown,
    key?: string,
  ): Promise<{ status: number; body: Record<string, unknown>; text: string }>
}

/** `yaml` holds providers and models; `store` and `auth` are set from the options. */
export async function startStoreGateway(
  storeUrl: string,
  yaml: string,
  options: { adminKey?: string | undefined; usageLog?: string } = {},
): Promise<StoreGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-store-gateway-'))
  const text = `server: { host: 127.0.0.1, port: 0, data_dir: ${JSON.stringify(dataDir)}, shutdown_grace_ms: 2000 }
auth:
  keys:
    - { name: alice, key: ${configKey}, models: ["*"] }
${options.adminKey === undefined ? '' : `  admin_key: ${options.adminKey}`}
store:
  url: ${JSON.stringify(storeUrl)}
  usage_log: ${options.usageLog ?? '{}'}
${yaml}`
  const config = parseConfig(text, 'test.yaml', {})
  const logs: string[] = []
  const logger = pino({ level: 'info', base: null }, { write: (line: string) => logs.push(line) })
  const running = await startGateway({ config, logger })
  const clientFor = (key: string) =>
    new OpenAI({ baseURL: `${running.url}/v1`, apiKey: key, maxRetries: 0, timeout: 10_000 })
  return {
    ...running,
    logs,
    clientFor,
    async admin(method, path, body, key = options.adminKey) {
      const headers: Record<string, string> = {}
      if (key !== undefined) headers.authorization = `Bearer ${key}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await response.text()
      return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text }
    },
  }
}
