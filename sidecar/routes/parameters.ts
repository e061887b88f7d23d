// Yup schemas of path and query parameters that also carry their OpenAPI description.

import type { SchemaObject } from 'openapi3-ts/oas31';
import * as yup from 'yup';

import { ApiError } from '../errors.js';
import { clampLimit, DEFAULT_LIMIT, MAX_LIMIT, MIN_LIMIT } from '../data/pagination.js';

/** OpenAPI facts stored in a yup schema's `meta`, read back by the document builder. */
export interface ParameterMeta {
  description: string;
  schema: SchemaObject;
  example?: unknown;
}

export const MAX_ID_LENGTH = 256;

/** Digits only: rejects `1e3`, `0x10`, ` 12` and `12.0`, which Number() would accept. */
const INTEGER_TEXT = /^-?\d+$/;

function parseInteger(value: unknown, original: unknown): unknown {
  if (typeof original === 'number') return original;
  if (typeof original !== 'string' || !INTEGER_TEXT.test(original)) return Number.NaN;
  return Number(original);
}

function integerSchema() {
  return yup
    .number()
    .transform(parseInteger)
    .typeError('${path} must be an integer written with digits only.')
    .test('safe-integer', `\${path} is too large; the maximum is ${Number.MAX_SAFE_INTEGER}.`, (value) => value === undefined || Number.isSafeInteger(value));
}

export function identifier(description: string, example: string) {
  return yup
    .string()
    .required('${path} is required.')
    .max(MAX_ID_LENGTH, `\${path} must be at most ${MAX_ID_LENGTH} characters.`)
    .meta({ description, example, schema: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } } satisfies ParameterMeta);
}

export function requiredText(description: string, example: string) {
  return identifier(description, example);
}

export function optionalText(description: string, example: string) {
  return yup
    .string()
    .max(MAX_ID_LENGTH, `\${path} must be at most ${MAX_ID_LENGTH} characters.`)
    .meta({ description, example, schema: { type: 'string', minLength: 1, maxLength: MAX_ID_LENGTH } } satisfies ParameterMeta);
}

export function limitParameter() {
  return integerSchema()
    .default(DEFAULT_LIMIT)
    .transform((value: number) => (Number.isSafeInteger(value) ? clampLimit(value) : value))
    .meta({
      description: `Page size. Defaults to ${DEFAULT_LIMIT}; values outside ${MIN_LIMIT}..${MAX_LIMIT} are clamped into that range.`,
      example: 50,
      schema: { type: 'integer', default: DEFAULT_LIMIT },
    } satisfies ParameterMeta);
}

export function offsetParameter() {
  return integerSchema()
    .default(0)
    .min(0, '${path} must be 0 or greater.')
    .meta({
      description: 'Number of items to skip. Defaults to 0. Deep offsets get slower; use `cursor` for long lists.',
      example: 0,
      schema: { type: 'integer', minimum: 0, default: 0 },
    } satisfies ParameterMeta);
}

export function cursorParameter() {
  return yup
    .string()
    .max(1024, '${path} must be at most 1024 characters.')
    .meta({
      description: 'Opaque `nextCursor` of the previous page. Faster than a deep offset; cannot be combined with a non-zero `offset`.',
      schema: { type: 'string', maxLength: 1024 },
    } satisfies ParameterMeta);
}

export function requiredTimestamp(description: string, example: number) {
  return integerSchema()
    .required('${path} is required.')
    .min(0, '${path} must be 0 or greater.')
    .meta({ description, example, schema: { type: 'integer', minimum: 0 } } satisfies ParameterMeta);
}

export function scopeParameter() {
  return yup
    .string()
    .required('${path} is required.')
    .oneOf(['local', 'server'] as const, '${path} must be `local` or `server`.')
    .meta({
      description: '`local` for data of this device, `server` for data of one server (then `serverId` is required).',
      example: 'server',
      schema: { type: 'string', enum: ['local', 'server'] },
    } satisfies ParameterMeta);
}

export const pagingQuery = {
  limit: limitParameter(),
  offset: offsetParameter(),
};

export const cursorPagingQuery = {
  ...pagingQuery,
  cursor: cursorParameter(),
};

/**
 * Keeps only the parameters a schema declares. Unknown ones are ignored anyway,
 * and yup looks each input name up in a plain object of fields, so a name such
 * as `toString` or `__proto__` made it throw a TypeError (a 500).
 */
function declaredParameters(schema: yup.AnyObjectSchema, input: Record<string, string | string[] | undefined>) {
  const declared: Record<string, string | string[] | undefined> = {};
  for (const name of Object.keys(schema.fields)) {
    if (Object.hasOwn(input, name)) declared[name] = input[name];
  }
  return declared;
}

/**
 * Validates parameters with a yup object schema. Repeated query parameters are
 * rejected rather than guessed at, and every failure is one INVALID_REQUEST
 * listing each problem.
 */
export function validateParameters<Schema extends yup.AnyObjectSchema>(
  schema: Schema,
  rawInput: Record<string, string | string[] | undefined>,
): yup.InferType<Schema> {
  const input = declaredParameters(schema, rawInput);
  const repeated = Object.entries(input)
    .filter(([, value]) => Array.isArray(value))
    .map(([name]) => name);
  if (repeated.length > 0) {
    throw new ApiError('INVALID_REQUEST', `Each parameter may appear once; repeated: ${repeated.join(', ')}.`);
  }
  try {
    return schema.validateSync(input, { abortEarly: false, stripUnknown: true });
  } catch (error) {
    if (error instanceof yup.ValidationError) {
      throw new ApiError('INVALID_REQUEST', error.errors.join(' '));
    }
    throw error;
  }
}
