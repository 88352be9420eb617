/**
 * The HTTP edge: a node:http server, a small route table, request ids, the access log and the one
 * error handler. Handlers throw GatewayErrors; only `sendError` renders them.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { createServer } from '../core/builtins.ts'
import { GatewayError } from '../core/errors.ts'
import { newRequestId } from '../core/request-id.ts'
import type { Gateway } from '../gateway.ts'
import { type AccessFields, type AccessLog, createAccessLog } from './access-log.ts'
import type { RequestContext } from './context.ts'
import { adminPrefix, createAdminHandler } from './handlers/admin/admin-routes.ts'
import { createChatCompletionsHandler } from './handlers/chat-completions.ts'
import { createMetricsHandler } from './handlers/metrics.ts'
import { createModelHandlers } from './handlers/models.ts'
import { sendError, sendJson } from './respond.ts'

type Handler = (context: RequestContext) => void | Promise<void>

export interface GatewayServer {
  server: Server
  /** Requests (including open streams) not yet finished. */
  inFlight(): number
  /** Marks the server as draining: new requests get 503 and `connection: close`. */
  startDraining(): void
  /** The access log, when the log level includes `info`; closed after the server stops. */
  accessLog: AccessLog | undefined
}

const healthBody = JSON.stringify({ status: 'ok' })
// A client's request id is echoed only when it is safe in a header and in logs.
const requestIdPattern = /^[\w.:@/+=-]{1,200}$/

function decodePathPart(part: string): string | undefined {
  try {
    return decodeURIComponent(part)
  } catch {
    return undefined
  }
}
const modelPrefix = '/v1/models/'

export function createGatewayServer(gateway: Gateway, logger: Logger): GatewayServer {
  const models = createModelHandlers(gateway)
  // By path, then method: a key joined per request would be flattened and hashed every time.
  const routes = new Map<string, Map<string, Handler>>()
  const addRoute = (method: string, path: string, handler: Handler) => {
    const byMethod = routes.get(path) ?? new Map<string, Handler>()
    byMethod.set(method, handler)
    routes.set(path, byMethod)
  }
  addRoute('GET', '/health', (context) => sendJson(context, 200, healthBody))
  addRoute('GET', '/v1/models', models.list)
  addRoute('POST', '/v1/chat/completions', createChatCompletionsHandler(gateway))
  const admin = createAdminHandler(gateway)
  const accessLog = createAccessLog(logger)
  let inFlight = 0
  let draining = false
  if (gateway.metrics !== undefined) {
    gateway.metrics.observeInFlight(() => inFlight)
    addRoute('GET', gateway.config.server.metrics.path, createMetricsHandler(gateway))
  }

  function route(method: string, path: string): Handler | undefined {
    const handler = routes.get(path)?.get(method)
    if (handler !== undefined) return handler
    if (method === 'GET' && path.startsWith(modelPrefix) && path.length > modelPrefix.length) {
      const name = decodePathPart(path.slice(modelPrefix.length))
      return name === undefined ? undefined : (context) => models.retrieve(context, name)
    }
    if (path.startsWith(adminPrefix)) return (context) => admin(context, path)
    return undefined
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now()
    // Portkey SDKs send their trace id; it serves as the request id when no x-request-id came.
    const incomingId = request.headers['x-request-id'] ?? request.headers['x-portkey-trace-id']
    const id =
      typeof incomingId === 'string' && requestIdPattern.test(incomingId)
        ? incomingId
        : newRequestId()
    const context: RequestContext = {
      id,
      request,
      response,
      headers: { 'x-request-id': id },
      startedAt,
      key: undefined,
      record: undefined,
      log: {},
    }
    const url = request.url ?? '/'
    const queryAt = url.indexOf('?')
    const path = queryAt === -1 ? url : url.slice(0, queryAt)
    inFlight++
    let failure: GatewayError | undefined
    try {
      if (draining) {
        context.headers.connection = 'close'
        throw new GatewayError(
          'shutting_down',
          'The gateway is shutting down; retry on another replica',
        )
      }
      const handler = route(request.method ?? 'GET', path)
      if (handler === undefined) {
        throw new GatewayError('not_found', `No route for ${request.method} ${path}`)
      }
      await handler(context)
    } catch (error) {
      failure = sendError(context, error)
      if (failure.status >= 500 && !(error instanceof GatewayError)) {
        logger.error({ request_id: id, err: error }, 'unhandled error')
      }
    } finally {
      inFlight--
      const latencyMs = performance.now() - startedAt
      const { record } = context
      if (record !== undefined) {
        record.status = response.statusCode
        record.latencyMs = latencyMs
        if (failure !== undefined) {
          record.errorCode = failure.code
          record.errorType = failure.type
        }
        for (const recorder of gateway.recorders) {
          try {
            recorder.record(record)
          } catch (error) {
            // A recorder's fault must not cost the other recorders, the access log or the process.
            logger.error({ request_id: id, err: error }, 'a request recorder failed')
          }
        }
      }
      if (accessLog !== undefined) {
        const fields: AccessFields = {
          request_id: id,
          method: request.method,
          path,
          status: response.statusCode,
          latency_ms: Math.round(latencyMs * 100) / 100,
          key: context.key?.name,
          ...context.log,
        }
        if (failure !== undefined) fields.error_code = failure.code
        accessLog.write(fields)
      }
    }
  }

  const server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 0 },
    (request, response) => {
      void handle(request, response)
    },
  )
  return {
    server,
    inFlight: () => inFlight,
    accessLog,
    startDraining() {
      draining = true
    },
  }
}
