/**
 * `/admin/keys`: create, list, show, update and revoke stored keys. The secret is in the create
 * answer only; everything else shows the key's prefix.
 */
import type { ZodType } from 'zod'
import { firstProblem, keyCreateSchema, keyPatchSchema } from '../../../auth/key-input.ts'
import { keyView } from '../../../auth/key-view.ts'
import { GatewayError } from '../../../core/errors.ts'
import type { KeyRepository, StoredKey } from '../../../store/key-repository.ts'
import { readJsonBody } from '../../body.ts'
import type { RequestContext } from '../../context.ts'
import { sendJson } from '../../respond.ts'
import { cursorParam, limitParam, listPage, queryOf } from './admin-query.ts'

export function createKeyHandlers(keys: KeyRepository, bodyLimit: number) {
  async function readBody<T>(context: RequestContext, schema: ZodType<T>): Promise<T> {
    const parsed = schema.safeParse(await readJsonBody(context.request, bodyLimit))
    if (parsed.success) return parsed.data
    const problem = firstProblem(parsed.error)
    throw new GatewayError('invalid_request', problem.message, { param: problem.param || null })
  }

  function found(key: StoredKey | undefined, id: string): StoredKey {
    if (key === undefined) throw new GatewayError('not_found', `No key with id '${id}'`)
    return key
  }

  return {
    async create(context: RequestContext): Promise<void> {
      const input = await readBody(context, keyCreateSchema)
      const { key, secret } = await keys.create(input)
      sendJson(context, 201, { ...keyView(key), key: secret })
    },

    async list(context: RequestContext): Promise<void> {
      const query = queryOf(context)
      const page = await keys.list({
        limit: limitParam(query, 50, 500),
        after: cursorParam(query),
        includeRevoked: query.get('include_revoked') === 'true',
      })
      sendJson(context, 200, listPage(page.keys.map(keyView), page.next))
    },

    async show(context: RequestContext, id: string): Promise<void> {
      sendJson(context, 200, keyView(found(await keys.get(id), id)))
    },

    async update(context: RequestContext, id: string): Promise<void> {
      const patch = await readBody(context, keyPatchSchema)
      sendJson(context, 200, keyView(found(await keys.update(id, patch), id)))
    },

    async revoke(context: RequestContext, id: string): Promise<void> {
      sendJson(context, 200, keyView(found(await keys.revoke(id), id)))
    },
  }
}
