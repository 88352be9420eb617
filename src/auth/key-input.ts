/**
 * The key shape as the admin API and the CLI accept it: the whole shape to create a key, any part
 * of it to update one (`null` clears an optional field).
 */
import { z } from 'zod'
import { keyBudgetSchema, keyLimitsSchema, keyShapeFields } from './key-shape.ts'

export const keyCreateSchema = z.strictObject({
  ...keyShapeFields,
  models: keyShapeFields.models.refine((models) => models.length > 0, 'list at least one model'),
})

export const keyPatchSchema = z.strictObject({
  name: keyShapeFields.name.optional(),
  models: z.array(z.string().min(1)).min(1, 'list at least one model').optional(),
  limits: keyLimitsSchema.nullable().optional(),
  budget: keyBudgetSchema.nullable().optional(),
  expires_at: keyShapeFields.expires_at,
  labels: z.record(z.string(), z.string()).nullable().optional(),
})

export type KeyCreateInput = z.infer<typeof keyCreateSchema>
export type KeyPatchInput = z.infer<typeof keyPatchSchema>

/** The first problem of a failed parse, as a dotted parameter path and a message. */
export function firstProblem(error: z.ZodError): { param: string; message: string } {
  const issue = error.issues[0]
  const parts = issue?.path.filter((part) => typeof part !== 'symbol') ?? []
  // An unknown field is reported at the field itself, not at the object holding it.
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) parts.push(issue.keys[0])
  const path = parts.join('.')
  return { param: path, message: `${path || 'body'}: ${issue?.message ?? 'invalid'}` }
}
