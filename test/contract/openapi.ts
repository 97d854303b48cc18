import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import addFormatsModule from "ajv-formats";
import { fixturesDir } from "./recordings.js";

// ajv-formats is CommonJS with `exports.default`; under NodeNext its default import is the
// module object, whose `default` is the plugin (at run time the plugin carries itself there too).
const addFormats = addFormatsModule.default;

const SPEC_ID = "api.github.com";

export interface SchemaCheck {
  /** ajv's errors as `path message` lines; empty when `value` fits. */
  errors(schemaName: string, value: unknown): string[];
  /** The property names a component schema declares. */
  properties(schemaName: string): string[];
  /** A documented example's value (hand-written by GitHub, not recorded). */
  example(exampleName: string): unknown;
}

interface ComponentSchemas {
  schemas: Record<string, { properties?: Record<string, unknown> }>;
  examples: Record<string, { value: unknown }>;
}

/**
 * Validates against the OpenAPI document's component schemas. OpenAPI 3.0's `nullable: true`
 * needs no transform: ajv 8 implements it (every nullable in this subset sits beside a `type`).
 * `$ref: #/components/schemas/...` resolves because the components are registered under one
 * id with their original layout. strict is off for OpenAPI's own keywords (example,
 * x-github-breaking-changes, discriminator); formats are checked.
 */
export function openApiSchemas(): SchemaCheck {
  const spec = JSON.parse(
    readFileSync(resolve(fixturesDir(), "openapi/api.github.com.subset.json"), "utf8"),
  ) as { components: ComponentSchemas };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("int64", { type: "number", validate: (value: number) => Number.isInteger(value) });
  ajv.addSchema({ $id: SPEC_ID, components: spec.components });
  return {
    errors(schemaName, value) {
      const validate = ajv.getSchema(`${SPEC_ID}#/components/schemas/${schemaName}`);
      if (!validate) throw new Error(`no schema ${schemaName} in the OpenAPI subset`);
      if (validate(value)) return [];
      return (validate.errors ?? []).map(
        (error: ErrorObject) =>
          `${error.instancePath || "/"} ${error.message ?? ""} ${JSON.stringify(error.params)}`,
      );
    },
    properties(schemaName) {
      const schema = spec.components.schemas[schemaName];
      if (!schema) throw new Error(`no schema ${schemaName} in the OpenAPI subset`);
      return Object.keys(schema.properties ?? {});
    },
    example(exampleName) {
      const example = spec.components.examples[exampleName];
      if (!example) throw new Error(`no example ${exampleName} in the OpenAPI subset`);
      return example.value;
    },
  };
}
