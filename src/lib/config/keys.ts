/**
 * Every config key, declared once with zod: its type, its default and whether it is a secret. Pulumi.yaml's
 * config block and README's config table are checked against this schema (test/unit/config-keys.test.ts).
 *
 * Pulumi hands the program strings (JSON for objects), and injects Pulumi.yaml's default for every key the
 * stack does not set, so "" (and an empty object or list) means "not set". A key without a default here is
 * optional and its default depends on the application (validate.ts and the profile fill it in), or it is
 * required (no default in Pulumi.yaml either).
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { APPLICATIONS, SNAPSHOT_SCOPES } from "../profiles/types";
import { SNAPSHOT_FORMATS, type SnapshotFormat } from "../snapshot/layout";
import { TIERS } from "../profiles/alexandria-ee";

/** What a key's declaration says beyond its zod type. */
export interface KeyFacts {
  /** A secret: set with `pulumi config set --secret`, handed over as an Output, untyped in Pulumi.yaml. */
  readonly secret?: boolean;
  /** Read as JSON: an object or a list. */
  readonly json?: "object" | "list";
  /** Must be set in every stack: Pulumi.yaml gives it no default. */
  readonly required?: boolean;
}

export const keyFacts = z.registry<KeyFacts>();

const unset = (v: unknown): unknown =>
  v === "" ||
  (typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0) ||
  (Array.isArray(v) && v.length === 0)
    ? undefined
    : v;

/** A string; "" is unset. */
function text() {
  return z.preprocess(unset, z.string().optional());
}

/** A string every stack sets, with an example of the command that sets it. */
function requiredText(name: string, example: string) {
  const message = `is required; set it with \`pulumi config set ${name} ${example}\``;
  return z.preprocess(unset, z.string({ error: () => message })).register(keyFacts, { required: true });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.preprocess(
    unset,
    z.enum(values, { error: (iss) => `'${String(iss.input)}' is not one of ${values.join(", ")}` }).optional(),
  );
}

function oneOfWithDefault<const T extends readonly [string, ...string[]]>(values: T, fallback: T[number]) {
  return z.preprocess(
    unset,
    z.enum(values, { error: (iss) => `'${String(iss.input)}' is not one of ${values.join(", ")}` }).default(fallback),
  );
}

/** A number or boolean given as such (a test, a JSON stack value) reads as the text Pulumi would hand over. */
const asText = (v: unknown): unknown => (typeof v === "number" || typeof v === "boolean" ? String(v) : unset(v));

function flag(fallback: boolean) {
  return z.preprocess(
    asText,
    z
      .enum(["true", "false"], { error: (iss) => `'${String(iss.input)}' is not a boolean; set it to true or false` })
      .transform((v) => v === "true")
      .default(fallback),
  );
}

function wholeNumber(min: number, max: number, fallback: number) {
  const message = (input: unknown) => `'${String(input)}' must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    asText,
    z
      .string({ error: (iss) => message(iss.input) })
      .refine((v) => /^-?\d+$/.test(v.trim()) && Number(v) >= min && Number(v) <= max, {
        error: (iss) => message(iss.input),
      })
      .transform(Number)
      .default(fallback),
  );
}

/** An object of component → string, set with `pulumi config set --path 'NAME.api' ...`. */
function stringMap(name: string) {
  return z
    .preprocess(
      unset,
      z
        .record(
          z.string(),
          z.string({
            error: (iss) => `must be a string, got ${JSON.stringify(iss.input)}; quote it in the stack file`,
          }),
          {
            error: () => `must be an object of component → string, e.g. \`pulumi config set --path '${name}.api' ...\``,
          },
        )
        .optional(),
    )
    .register(keyFacts, { json: "object" });
}

function stringList(name: string) {
  const message = `must be a list of strings, e.g. \`pulumi config set --path '${name}[0]' ...\``;
  return z
    .preprocess(unset, z.array(z.string({ error: () => message }), { error: () => message }).optional())
    .register(keyFacts, { json: "list" });
}

/** A secret: an Output the engine marked secret (its text is never read during validation). */
function secret() {
  return z.custom<pulumi.Output<string>>().optional().register(keyFacts, { secret: true });
}

/** Inline Helm values merged over the files. */
const helmValues = z
  .preprocess(unset, z.record(z.string(), z.unknown(), { error: () => "must be an object of Helm values" }).optional())
  .register(keyFacts, { json: "object" });

type FormatTuple = readonly [SnapshotFormat, ...SnapshotFormat[]];

export const CONFIG_SCHEMA = z.object({
  application: oneOfWithDefault(APPLICATIONS, "alexandria-ee"),
  namespace: requiredText("namespace", "alexandria"),
  releaseName: text(),
  chart: requiredText("chart", "./charts/alexandria-ee"),
  chartRepository: text(),
  chartVersion: text(),
  chartRegistryUsername: text(),
  chartRegistryPassword: secret(),
  tier: oneOf(TIERS),
  baseValuesFile: text(),
  tierValuesFile: text(),
  siteValuesFile: text(),
  siteValues: helmValues,
  imageTags: stringMap("imageTags"),
  imageRepositories: stringMap("imageRepositories"),
  registryInsecure: flag(false),
  registryUsername: text(),
  registryPassword: secret(),
  baseUrl: requiredText("baseUrl", "https://alexandria.example.com"),
  dsnSecret: text(),
  pgDsn: secret(),
  schemaVersionQuery: text(),
  snapshotScope: oneOf(SNAPSHOT_SCOPES),
  snapshotDir: text(),
  snapshotFormat: oneOfWithDefault(SNAPSHOT_FORMATS as readonly SnapshotFormat[] as FormatTuple, "directory"),
  snapshotJobs: wholeNumber(1, 64, 2),
  snapshotCompression: wholeNumber(0, 9, 1),
  backupSecrets: stringList("backupSecrets"),
  redisUrl: secret(),
  helmTimeoutSeconds: wholeNumber(30, 86_400, 600),
  maxHistory: wholeNumber(0, 1000, 10).refine((n) => n === 0 || n >= 3, {
    error: (iss) =>
      `${String(iss.input)} revisions leave no room to roll back through a failed upgrade; use at least 3 (0 = unlimited)`,
  }),
  createNamespace: flag(false),
  adoptExistingRelease: flag(false),
  retainOnDelete: flag(false),
  autoRollback: flag(true),
  readyTimeoutSeconds: wholeNumber(1, 3600, 300),
  licenseWarnDays: wholeNumber(0, 3650, 30),
  // 0 leaves the bound to the license's own seat count.
  maxSeats: wholeNumber(0, 10_000_000, 0),
  logLines: wholeNumber(0, 10_000, 50),
  protected: flag(false),
  acknowledgeUpgrade: text(),
  destructive: flag(false),
  allowUnverifiedDatabaseTls: text(),
  promoteFrom: text(),
  promotionOverride: text(),
  promotionOverrideReason: text(),
  kubeContext: text(),
});

/** The keys as parsed: typed, defaults filled in, unset optional keys undefined. */
export type ConfigValues = z.output<typeof CONFIG_SCHEMA>;
export type ConfigKey = keyof ConfigValues;

/** Every config key the program reads; Pulumi.yaml declares the same list. */
export const CONFIG_KEYS = Object.keys(CONFIG_SCHEMA.shape) as ConfigKey[];

export function factsOf(key: ConfigKey): KeyFacts {
  return keyFacts.get(CONFIG_SCHEMA.shape[key]) ?? {};
}

export const SECRET_KEYS = CONFIG_KEYS.filter((k) => factsOf(k).secret === true);
export const JSON_KEYS = CONFIG_KEYS.filter((k) => factsOf(k).json !== undefined);

/**
 * The default the schema fills in when the key is unset, or undefined when it has none (optional, or
 * required). Read from the zod declaration itself, so Pulumi.yaml and the README can be checked against it.
 */
export function declaredDefault(key: ConfigKey): unknown {
  let schema: z.core.$ZodType = CONFIG_SCHEMA.shape[key];
  for (;;) {
    const def = schema._zod.def as {
      type: string;
      out?: z.core.$ZodType;
      innerType?: z.core.$ZodType;
      defaultValue?: unknown;
    };
    if (def.type === "default") return def.defaultValue;
    if (def.type === "pipe" && def.out !== undefined) schema = def.out;
    else return undefined;
  }
}

/** The keys validation reads: as ConfigValues, except that a required key may be missing (already reported). */
export type ParsedKeys = Omit<ConfigValues, RequiredKey> & { readonly [K in RequiredKey]?: ConfigValues[K] };
type RequiredKey = "namespace" | "chart" | "baseUrl";

/**
 * Parses each raw key on its own, so every problem is reported at once; each names `<project>:<key>` (or
 * `<key>.<entry>` inside an object) and what to do. A key that does not parse takes its default, so the
 * checks that use it still run. Unknown keys are left alone: Pulumi refuses keys Pulumi.yaml does not declare.
 */
export function parseKeys(
  raw: Readonly<Record<string, unknown>>,
  project: string,
): { readonly values: ParsedKeys; readonly problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of CONFIG_KEYS) {
    const result = CONFIG_SCHEMA.shape[key].safeParse(raw[key]);
    if (result.success) {
      values[key] = result.data;
      continue;
    }
    values[key] = factsOf(key).required ? undefined : declaredDefault(key);
    for (const issue of result.error.issues) {
      // A list's entries are reported against the list; an object's entries by name (imageTags.api).
      const where = [key, ...issue.path.filter((p) => typeof p !== "number").map(String)].join(".");
      const problem = `${project}:${where}: ${issue.message}`;
      if (!problems.includes(problem)) problems.push(problem);
    }
  }
  return { values: values as ParsedKeys, problems };
}

/**
 * The keys the stack set: present, not "" or an empty object or list, and not Pulumi.yaml's injected
 * default (which the program cannot tell from the same value set by hand, and which means the same).
 */
export function keysSet(raw: Readonly<Record<string, unknown>>): Set<ConfigKey> {
  const set = new Set<ConfigKey>();
  for (const key of CONFIG_KEYS) {
    const value = unset(raw[key]);
    if (value === undefined) continue;
    const fallback = declaredDefault(key);
    if (fallback !== undefined && JSON.stringify(String(value)) === JSON.stringify(String(fallback))) continue;
    set.add(key);
  }
  return set;
}
