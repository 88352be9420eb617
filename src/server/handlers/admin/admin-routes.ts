/**
 * The admin API under `/admin/`: one handler for the whole prefix, so every path (known or not)
 * is authorised before anything else is said about it. Paths are matched here, by a small table
 * of collections and `{id}` members.
 */
import { GatewayError } from '../../../core/errors.ts'
import type { Gateway } from '../../../gateway.ts'
import type { RequestContext } from '../../context.ts'
import { createKeyHandlers } from './keys.ts'
import { createAdminCheck } from './require-admin.ts'
import { createUsageHandlers } from './usage.ts'

export const adminPrefix = '/admin/'

type MemberHandler = (context: RequestContext, id: string) => Promise<void>
type Methods<H> = Partial<Record<string, H>>

export function createAdminHandler(gateway: Gateway) {
  const checkAdmin = createAdminCheck(gateway.config.auth.admin_key)
  const { store } = gateway
  const collections = new Map<string, Methods<(context: RequestContext) => Promise<void>>>()
  const members = new Map<string, Methods<MemberHandler>>()
  if (store !== undefined) {
    const keys = createKeyHandlers(store.keys, gateway.config.server.body_limit)
    const usage = createUsageHandlers(store.usage)
    collections.set('keys', { GET: keys.list, POST: keys.create })
    members.set('keys', { GET: keys.show, PATCH: keys.update, DELETE: keys.revoke })
    collections.set('usage', { GET: usage.summary })
    collections.set('requests', { GET: usage.requests })
  }

  return async function admin(context: RequestContext, path: string): Promise<void> {
    checkAdmin(context)
    const method = context.request.method ?? 'GET'
    const [collection = '', id, ...rest] = path.slice(adminPrefix.length).split('/')
    if (rest.length === 0 && (id === undefined || id === '')) {
      const methods = collections.get(collection)
      if (methods !== undefined) return (methods[method] ?? notAllowed(method, path))(context)
    } else if (rest.length === 0 && id !== undefined) {
      const methods = members.get(collection)
      if (methods !== undefined) {
        return (methods[method] ?? notAllowed(method, path))(context, decodeSegment(id))
      }
    }
    throw new GatewayError('not_found', `No route for ${method} ${path}`)
  }
}

function notAllowed(method: string, path: string): never {
  throw new GatewayError('method_not_allowed', `${method} is not allowed on ${path}`)
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new GatewayError('invalid_request', `The path segment '${segment}' is not valid`)
  }
}
