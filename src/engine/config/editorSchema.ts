// The schema VS Code's JSON language service gets for *.cl.json files (package.json jsonValidation):
// the experiment schema under `if`. An `if` without `then`/`else` never fails, so the service
// reports no schema problems of its own (it would report them as warnings in generic words, "Value
// is below the exclusive minimum of 0.", beside the extension's errors in Problems), while it still
// takes hovers and completion from everything the experiment schema matches. The extension
// publishes the loader's findings instead: the same checks and words as the CLI and the runner.
// `npm run schema` writes it to schemas/experiment.editor.schema.json from experiment.schema.json.
import type { JsonSchema } from './schema';

export const EDITOR_SCHEMA_FILE = 'experiment.editor.schema.json';

/** The editor's schema: the root's documentation and snippets, the rules under `if`, the definitions they refer to. */
export function editorSchema(full: JsonSchema): JsonSchema {
  const { $schema, title, description, markdownDescription, defaultSnippets, definitions, ...rules } = full;
  return {
    $schema,
    $comment:
      'Generated from experiment.schema.json by `npm run schema`; do not edit. VS Code reads it for *.cl.json files: the rules sit under `if`, so hovers and completion work while the extension, not the JSON service, reports problems.',
    title,
    description,
    markdownDescription,
    defaultSnippets,
    if: rules,
    definitions,
  };
}
