/**
 * `GET /metrics` (or `server.metrics.path`): the Prometheus text format. Open by default, like
 * most exporters (bind or firewall it); `require_key: true` asks for any client API key.
 */
import { GatewayError } from '../../core/errors.ts'
import type { Gateway } from '../../gateway.ts'
import { authenticate } from '../auth.ts'
import type { RequestContext } from '../context.ts'

export function createMetricsHandler(gateway: Gateway) {
  const { metrics } = gateway
  const requireKey = gateway.config.server.metrics.require_key
  return async function metricsHandler(context: RequestContext): Promise<void> {
    if (metrics === undefined) return
    if (requireKey) await authenticate(context, gateway.keys)
    let text: string
    try {
      text = await metrics.render()
    } catch (error) {
      throw new GatewayError(
        'metrics_unavailable',
        `Metrics are unavailable: ${(error as Error).message}`,
        {
          cause: error,
        },
      )
    }
    context.response.writeHead(200, {
      ...context.headers,
      'content-type': metrics.contentType,
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    })
    context.response.end(text)
  }
}
