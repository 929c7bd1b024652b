// The experiment file's JSON Schema (schemas/experiment.schema.json, inlined by the bundler) and
// its ajv validators, compiled once on first use.
import Ajv, { type ValidateFunction } from 'ajv';
import experimentSchemaJson from '../../../schemas/experiment.schema.json';

/** A JSON Schema object, loosely typed (the JSON file is the contract). */
export interface JsonSchema {
  [keyword: string]: unknown;
}

export const experimentSchema: JsonSchema = experimentSchemaJson as JsonSchema;

/** The names under `definitions` in the schema that can be validated on their own. */
export type SchemaDefinition =
  | 'task'
  | 'model'
  | 'modelPreset'
  | 'modelMlp'
  | 'modelCnn'
  | 'convLayer'
  | 'training'
  | 'strategy'
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
