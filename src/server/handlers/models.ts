/** `GET /v1/models` and `GET /v1/models/{id}`: the catalog, as far as the caller's key may see it. */
import type { ClientKey } from '../../auth/keys.ts'
import type { CatalogModel } from '../../catalog.ts'
import { GatewayError } from '../../core/errors.ts'
import type { Gateway } from '../../gateway.ts'
import { authenticate } from '../auth.ts'
import type { RequestContext } from '../context.ts'
import { sendJson } from '../respond.ts'

export function createModelHandlers(gateway: Gateway) {
  // One serialised list per key, built on first use: the catalog never changes while we run. Held
  // weakly by key object, since a stored key is rebuilt when it is re-read (its models may change).
  const lists = new WeakMap<ClientKey, string>()

  return {
    async list(context: RequestContext): Promise<void> {
      const key = await authenticate(context, gateway.keys)
      let body = lists.get(key)
      if (body === undefined) {
        const data = gateway.catalog.entries().filter((entry) => key.allows(entry.id))
        body = JSON.stringify({ object: 'list', data })
        lists.set(key, body)
      }
      sendJson(context, 200, body)
    },

    async retrieve(context: RequestContext, name: string): Promise<void> {
      const key = await authenticate(context, gateway.keys)
      const model = gateway.catalog.resolve(name)
      const entry: CatalogModel | undefined = model && gateway.catalog.entry(model.id)
      if (entry === undefined || !key.allows(entry.id)) {
        throw new GatewayError('model_not_found', `The model '${name}' does not exist`, {
          param: 'model',
        })
      }
      sendJson(context, 200, entry)
    },
  }
}
