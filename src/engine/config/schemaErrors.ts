// ajv's schema errors as findings in plain words, one per problem, at the value or key concerned.
import { getNodeValue } from 'jsonc-parser';
import type { ErrorObject } from 'ajv';
import { FILE_ROLES, STANDARD_FILE_NAMES } from '../data/datasets';
import { experimentValidator, resolveRef, experimentSchema, type JsonSchema, type SchemaDefinition } from './schema';
import { atKey, atObject, atValue, childPointer, fieldName, locate, underPointer, type Context, type Finding } from './source';
import { UNIONS, alternativesWithKey, chooseAlternative, type Discriminator, type UnionRule } from './unions';
import { closestName, describeAllowed, describeValue, isObject, json, quoteKey, type Json } from './wording';

/** Top-level fields that ask for several runs (config/sweep.ts). */
const SWEEP_FIELDS = ['seeds', 'sweep'];

const IDX_NAMES = FILE_ROLES.map((r) => STANDARD_FILE_NAMES[r]);
const IDX_FILES = `${IDX_NAMES.slice(0, -1).join(', ')} and ${IDX_NAMES[IDX_NAMES.length - 1]}`;

/** The alternative of a union being validated, for hints about keys it lacks. */
interface Alternative {
  /** Where the union's value is. */
  pointer: string;
  discriminator: Discriminator;
  value: Json;
}

/** Findings for ajv's errors of the value at `base` (its whole file when ''). */
export function schemaFindings(ctx: Context, errors: ErrorObject[], base: string, alternative?: Alternative): Finding[] {
  const findings: Finding[] = [];
  const valueErrors = new Map<string, ErrorObject[]>();
  const unions = new Set<UnionRule>();
  for (const e of errors) {
    const pointer = base + e.instancePath;
    const union = UNIONS.find((u) => underPointer(pointer, u.pointer) && !underPointer(base, u.pointer));
    if (union) {
      unions.add(union);
      continue;
    }
    switch (e.keyword) {
      case 'if':
      case 'oneOf':
      case 'anyOf':
        break; // their sub-errors say more
      case 'required':
        findings.push(requiredFinding(ctx, pointer, e));
        break;
      case 'additionalProperties':
        // Keys of "sweep" are paths: config/sweep.ts words an unknown one (did-you-mean over every path, why a path cannot be swept).
        if (pointer === '/sweep') break;
        findings.push(unknownPropertyFinding(ctx, pointer, e, alternative));
        break;
      case 'uniqueItems':
        findings.push(duplicateItemFinding(ctx, pointer, e));
        break;
      default: {
        const list = valueErrors.get(pointer) ?? [];
        list.push(e);
        valueErrors.set(pointer, list);
      }
    }
  }
  for (const [pointer, list] of valueErrors) findings.push(valueFinding(ctx, pointer, list));
  for (const union of unions) {
    const at = locate(ctx.root, union.pointer);
    if (at.value) findings.push(...unionFindings(ctx, union, getNodeValue(at.value)));
  }
  return findings;
}

/** The errors of the one alternative the value means (see config/unions.ts). */
function unionFindings(ctx: Context, rule: UnionRule, value: Json): Finding[] {
  const choice = chooseAlternative(rule, value);
  if (choice === null) return [];
  if ('message' in choice) return [atValue(ctx, choice.pointer, 'error', choice.message)];
  const validate = experimentValidator(choice.definition);
  if (validate(value)) return [];
  const alternative = choice.discriminator ? { pointer: rule.pointer, discriminator: choice.discriminator, value: choice.value } : undefined;
  return schemaFindings(ctx, validate.errors ?? [], rule.pointer, alternative);
}

function valueFinding(ctx: Context, pointer: string, errors: ErrorObject[]): Finding {
  const schema = (errors[0].parentSchema ?? {}) as JsonSchema;
  const value: Json = errors[0].data;
  if (pointer === '/tasks' && Array.isArray(value) && value.length === 0) {
    return atValue(ctx, pointer, 'error', 'tasks is empty: list at least one task, e.g. [{"dataset": "mnist"}, {"dataset": "fashion-mnist"}]');
  }
  const allowed = describeAllowed(schema);
  let message = `${fieldName(pointer)} must be ${allowed}, got ${describeValue(value, schema.type === 'string')}`;
  if (Array.isArray(schema.enum) && typeof value === 'string') {
    const suggestion = closestName(value, schema.enum as string[]);
    if (suggestion !== undefined) message += ` — did you mean ${json(suggestion)}?`;
  }
  return atValue(ctx, pointer, 'error', message);
}

function requiredFinding(ctx: Context, pointer: string, e: ErrorObject): Finding {
  const missing = (e.params as { missingProperty: string }).missingProperty;
  const parent = isObject(e.data) ? e.data : {};
  const target = childPointer(pointer, missing);
  if (missing === 'path' && parent.dataset === 'idx') {
    const finding = atValue(ctx, childPointer(pointer, 'dataset'), 'error', `${fieldName(pointer)}: dataset "idx" needs a 'path': the folder holding ${IDX_FILES} (raw or .gz)`);
    return { ...finding, pointer: target };
  }
  const props = ((e.parentSchema as JsonSchema | undefined)?.properties ?? {}) as Record<string, JsonSchema>;
  const prop = resolveRef(props[missing] ?? {});
  let hint = '';
  if (Array.isArray(prop.enum)) hint = ` (${describeAllowed(prop)})`;
  else if (Array.isArray(prop.examples)) hint = `, e.g. ${json(prop.examples[0])}`;
  else if (prop.default !== undefined) hint = `, e.g. ${json(prop.default)}`;
  const finding = atObject(ctx, pointer, 'error', `${fieldName(pointer)} is missing the required property '${missing}'${hint}`);
  return { ...finding, pointer: target };
}

function propertiesOf(definition: SchemaDefinition): string[] {
  const defs = experimentSchema.definitions as Record<string, JsonSchema>;
  return Object.keys((defs[definition]?.properties ?? {}) as object);
}

function unknownPropertyFinding(ctx: Context, pointer: string, e: ErrorObject, alternative: Alternative | undefined): Finding {
  const key = (e.params as { additionalProperty: string }).additionalProperty;
  const known = Object.keys(((e.parentSchema as JsonSchema | undefined)?.properties ?? {}) as object);
  const where = fieldName(pointer);
  // The list names the experiment's own fields; the sweep fields (seeds, sweep) are found by the did-you-mean.
  const listed = pointer === '' ? known.filter((k) => !SWEEP_FIELDS.includes(k)) : known;
  const allowed = `allowed: ${listed.map(quoteKey).join(', ')}`;
  // A key of another alternative (a setting of another benchmark, another strategy's
  // hyperparameter) says so; a near-miss gets a did-you-mean.
  const elsewhere = alternative?.pointer === pointer ? alternativesWithKey(alternative.discriminator, alternative.value, key, propertiesOf) : undefined;
  const suggestion = closestName(key, known);
  let message: string;
  if (elsewhere) message = `unknown property '${key}' in ${where}: ${elsewhere}; ${allowed}`;
  else if (suggestion) message = `unknown property '${key}' in ${where} — did you mean '${suggestion}'?`;
  else message = `unknown property '${key}' in ${where}; ${allowed}`;
  const at = locate(ctx.root, childPointer(pointer, key));
  if (at.property) return atKey(at.property, childPointer(pointer, key), 'error', message);
  return atValue(ctx, pointer, 'error', message);
}

/** An item listed twice, at its second occurrence. */
function duplicateItemFinding(ctx: Context, pointer: string, e: ErrorObject): Finding {
  const { i, j } = e.params as { i: number; j: number };
  const items = Array.isArray(e.data) ? e.data : [];
  const later = Math.max(i, j);
  return atValue(ctx, childPointer(pointer, later), 'error', `${fieldName(pointer)} lists ${json(items[later])} twice: give each once`);
}
