// The experiment file's JSON Schema and its ajv validators, compiled once on first use. The file
// (schemas/experiment.schema.json, inlined by the bundler) is what VS Code reads; the validator
// takes its strategy and benchmark parts straight from the code tables they are generated from, so
// a registry entry is validated even before the file is regenerated (a test keeps them equal).
import Ajv, { type ValidateFunction } from 'ajv';
import experimentSchemaJson from '../../../schemas/experiment.schema.json';
import { withGeneratedDefinitions } from './schemaSections';

/** A JSON Schema object, loosely typed (the JSON file is the contract). */
export interface JsonSchema {
  [keyword: string]: unknown;
}

/** The schema file as committed. */
export const experimentSchemaFile: JsonSchema = experimentSchemaJson as JsonSchema;

/** The schema the loader validates with: the file, its generated parts from the tables. */
export const experimentSchema: JsonSchema = withGeneratedDefinitions(experimentSchemaFile);

/** The names under `definitions` in the schema that can be validated on their own. */
export type SchemaDefinition =
  | 'task'
  | 'scenario'
  | 'model'
  | 'modelPreset'
  | 'modelMlp'
  | 'modelCnn'
  | 'convLayer'
  | 'training'
  | 'strategy'
  | `strategy-${string}`
  | 'benchmark'
  | `benchmark-${string}`
  | 'landscape'
  | 'landscapeSettings';

const SCHEMA_KEY = 'experiment';

// Annotations VS Code reads (hovers, completion); ajv must know them to stay in strict mode,
// which catches typos in the schema itself.
const EDITOR_KEYWORDS = [
  'markdownDescription',
  'enumDescriptions',
  'markdownEnumDescriptions',
  'defaultSnippets',
  'deprecationMessage',
  'doNotSuggest',
  'errorMessage',
  'patternErrorMessage',
];

let ajv: Ajv | undefined;
const validators = new Map<string, ValidateFunction>();

function schemaCompiler(): Ajv {
  if (!ajv) {
    ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strictSchema: true,
      strictNumbers: true,
      strictTypes: true,
      strictTuples: true,
      // `then: {required: ['path']}` names a property defined beside the `if`, not inside `then`.
      strictRequired: false,
    });
    ajv.addVocabulary(EDITOR_KEYWORDS);
    ajv.addSchema(experimentSchema, SCHEMA_KEY);
  }
  return ajv;
}

/**
 * The validator for the whole experiment file, or for one of its definitions (its errors'
 * instancePath is then relative to the value validated).
 */
export function experimentValidator(definition?: SchemaDefinition): ValidateFunction {
  const key = definition ? `${SCHEMA_KEY}#/definitions/${definition}` : SCHEMA_KEY;
  let validate = validators.get(key);
  if (!validate) {
    validate = schemaCompiler().getSchema(key);
    if (!validate) throw new Error(`schema definition not found: ${key}`);
    validators.set(key, validate);
  }
  return validate;
}

/** A schema with its `$ref` (a local "#/..." pointer into the experiment schema) followed. */
export function resolveRef(schema: JsonSchema): JsonSchema {
  let s = schema;
  for (let hops = 0; typeof s.$ref === 'string' && hops < 10; hops++) {
    let node: unknown = experimentSchema;
    for (const part of s.$ref.replace(/^#\//, '').split('/')) node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!node || typeof node !== 'object') break;
    // Keywords beside the $ref (a description, a default) take precedence, as in VS Code.
    const { $ref: _ref, ...siblings } = s;
    s = { ...(node as JsonSchema), ...siblings };
  }
  return s;
}
