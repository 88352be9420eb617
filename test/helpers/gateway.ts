/** Starts a real gateway on a loopback port from YAML text, with an `openai` client pointed at it. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import OpenAI from 'openai'
import { type Logger, pino } from 'pino'
import { parseConfig } from '../../src/config/load.ts'
import { type RunningGateway, startGateway } from '../../src/start.ts'

export const testKey = 'sk-test-alice-0123456789abcdef'
export const otherKey = 'sk-test-bob-0123456789abcdefgh'

export interface TestGateway extends RunningGateway {
  baseURL: string
  client: OpenAI
  clientFor(key: string): OpenAI
}

/**
 * `yaml` is the config without `server` and `auth`; two keys are added (alice: all, bob: `mock*`),
 * then `options.keys` (YAML flow mappings), and `options.server` inside `server`. The logger is
 * silent unless `options.logger` is given.
 */
export async function startTestGateway(
  yaml: string,
  environment: NodeJS.ProcessEnv = {},
  options: { keys?: readonly string[]; server?: string; logger?: Logger } = {},
): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'switchyard-test-'))
  const text = `server: { host: 127.0.0.1, port: 0, log_level: silent, data_dir: ${JSON.stringify(dataDir)}, shutdown_grace_ms: 2000${options.server ? `, ${options.server}` : ''} }
auth:
  keys:
    - { name: alice, key: ${testKey}, models: ["*"] }
    - { name: bob, key: ${otherKey}, models: ["mock*"] }
${(options.keys ?? []).map((key) => `    - ${key}\n`).join('')}${yaml}`
  const config = parseConfig(text, 'test.yaml', environment)
  const running = await startGateway({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
  })
  const baseURL = `${running.url}/v1`
  const clientFor = (key: string) =>
    new OpenAI({ baseURL, apiKey: key, maxRetries: 0, timeout: 10_000 })
  return { ...running, baseURL, client: clientFor(testKey), clientFor }
}
