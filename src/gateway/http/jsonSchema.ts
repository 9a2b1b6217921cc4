import type * as t from 'io-ts';

export type JsonSchema = Record<string, unknown>;

// Hand-written: no maintained converter covers io-ts 2.2's runtime types, and the subset the API
// uses is small. Every schema in /docs comes from the very codecs the server decodes with, so the
// documentation cannot drift from what is enforced.
const tagged = (codec: t.Mixed): { _tag?: string } & Record<string, unknown> => codec as unknown as { _tag?: string } & Record<string, unknown>;

export const toJsonSchema = (codec: t.Mixed): JsonSchema => {
  const c = tagged(codec);
  switch (c._tag) {
    case 'StringType':
      return { type: 'string' };
    case 'NumberType':
      return { type: 'number' };
    case 'BooleanType':
      return { type: 'boolean' };
    case 'NullType':
      return { type: 'null' };
    case 'UnknownType':
    case 'AnyType':
      return {};
    case 'LiteralType':
      return { const: c.value, type: typeof c.value };
    case 'KeyofType':
      return { type: 'string', enum: Object.keys(c.keys as object) };
    case 'ArrayType':
    case 'ReadonlyArrayType':
      return { type: 'array', items: toJsonSchema(c.type as t.Mixed) };
    case 'RefinementType':
    case 'ReadonlyType':
    case 'ExactType':
      return { ...toJsonSchema(c.type as t.Mixed), ...(c._tag === 'RefinementType' ? { description: codec.name } : {}) };
    case 'InterfaceType':
    case 'StrictType': {
      const props = c.props as Record<string, t.Mixed>;
      return {
        type: 'object',
        properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toJsonSchema(v)])),
        required: Object.keys(props),
      };
    }
    case 'PartialType': {
      const props = c.props as Record<string, t.Mixed>;
      return { type: 'object', properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toJsonSchema(v)])) };
    }
    case 'IntersectionType': {
      const parts = (c.types as t.Mixed[]).map(toJsonSchema);
      if (parts.every((p) => p.type === 'object'))
        return {
          type: 'object',
          properties: Object.assign({}, ...parts.map((p) => p.properties)),
          required: parts.flatMap((p) => (p.required as string[] | undefined) ?? []),
        };
      return { allOf: parts };
    }
    case 'UnionType':
      return { anyOf: (c.types as t.Mixed[]).map(toJsonSchema) };
    case 'DictionaryType':
      return { type: 'object', additionalProperties: toJsonSchema(c.codomain as t.Mixed) };
    default:
      // A custom codec (e.g. a number carried in a query string): documented by its name.
      return { description: codec.name };
  }
};
