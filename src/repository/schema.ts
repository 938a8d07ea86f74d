import fs from "node:fs";
import path from "node:path";
import type { ErrorObject, ValidateFunction } from "ajv";

/**
 * Where the JSON Schema of bitstream.json lies: docs/ of the package root,
 * two levels above both src/repository and dist/repository.
 */
const SCHEMA_PATH = path.join(__dirname, "..", "..", "docs", "bitstream.schema.json");

let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  if (!validator) {
    // Loaded here, not on import: listing devices or opening the engine
    // needs no schema.
    const { default: Ajv } = require("ajv") as typeof import("ajv");
    const schema = JSON.parse(fs.readFileSync(SCHEMA_PATH, "utf8")) as object;
    validator = new Ajv({ allErrors: true, strict: true }).compile(schema);
  }
  return validator;
}

/** `/kernels/0/arguments/2/type` → `kernels[0].arguments[2].type`. */
function fieldName(pointer: string): string {
  return pointer
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), "");
}

function describe(error: ErrorObject): string {
  const field = fieldName(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === "additionalProperties") {
    const extra = String(params.additionalProperty);
    return `${field ? `${field}.` : ""}${extra}: unknown field`;
  }
  if (error.keyword === "required") {
    return `${field ? `${field}.` : ""}${String(params.missingProperty)}: required field is missing`;
  }
  if (error.keyword === "enum") {
    const allowed = (params.allowedValues as unknown[]).map((value) => JSON.stringify(value));
    return `${field || "(root)"}: must be one of ${allowed.join(", ")}`;
  }
  return `${field || "(root)"}: ${error.message ?? error.keyword}`;
}

/**
 * Checks a parsed bitstream.json against the schema; returns one line per
 * problem (each naming its field), empty when valid.
 */
export function schemaProblems(value: unknown): string[] {
  const validate = compile();
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  // A failed oneOf also reports each branch; the branch errors say more, so
  // the summary line is kept only when it is all there is.
  const specific = errors.filter((error) => error.keyword !== "oneOf");
  return [...new Set((specific.length ? specific : errors).map(describe))];
}
