import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { isSecretName, namespaceNameProblem } from "../src/lib/kube/names";
import { tagProblem } from "../src/lib/release/image-tags";

export const TIERS = ["starter", "professional", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];
export const APPLICATIONS = ["alexandria-ee", "em-runtime"] as const;
export type Application = (typeof APPLICATIONS)[number];
export const SNAPSHOT_FORMATS = ["custom", "directory"] as const;
export type SnapshotFormat = (typeof SNAPSHOT_FORMATS)[number];

/** The components whose image tags Alexandria EE's chart pins (`image.<component>.tag`). */
export const ALEXANDRIA_COMPONENTS = ["api", "orchestrator", "dashboard"] as const;
/** The Secrets em-runtime's runbook backs up before an upgrade, saved with the snapshot unless backupSecrets says otherwise. */
export const EM_RUNTIME_BACKUP_SECRETS = ["em-runtime-secrets", "infisical-bootstrap-secret"] as const;
/** em-runtime's health endpoint, checked instead of Alexandria's /ready, /auth/setup and /license. */
export const EM_RUNTIME_HEALTH_PATH = "/api/governance/health";

/** Where the chart comes from: a local directory, or a repository/OCI chart at a pinned version. */
export type ChartSource =
  | { readonly kind: "local"; readonly path: string; readonly version: string }
  | { readonly kind: "repository"; readonly chart: string; readonly repository?: string; readonly version: string };

/** The validated, typed config of one stack. */
export interface RunbookConfig {
  readonly project: string;
  readonly stack: string;
  readonly application: Application;
  readonly namespace: string;
  readonly releaseName: string;
  readonly chart: ChartSource;
  readonly tier: Tier;
  /** Values files in the order Helm merges them: base → tier → site (later wins). */
  readonly valuesFiles: readonly string[];
  /** Inline site values, merged on top of the files (the image tags go on top of these). */
  readonly siteValues: Readonly<Record<string, unknown>>;
  readonly imageTags: Readonly<Record<string, string>>;
  /** Image repositories (without tag) checked in the registry, per component. */
  readonly imageRepositories: Readonly<Record<string, string>>;
  readonly registryInsecure: boolean;
  readonly registryUsername?: string;
  readonly registryPassword?: pulumi.Output<string>;
  readonly baseUrl: string;
  /** The Kubernetes Secret (`name/key`) holding the application's DSN. */
  readonly dsnSecret?: { readonly name: string; readonly key: string };
  /** The DSN the runbook connects with from where `pulumi up` runs; when absent, read from dsnSecret. */
  readonly pgDsn?: pulumi.Output<string>;
  readonly schemaVersionQuery?: string;
  readonly snapshot: {
    readonly dir: string;
    readonly format: SnapshotFormat;
    readonly jobs: number;
    readonly compression: number;
    /** Kubernetes Secrets of the namespace saved with each snapshot (em-runtime's runbook names two). */
    readonly secrets: readonly string[];
    /** A Redis server whose dataset is saved with each snapshot (secret: the URL may hold a password). */
    readonly redisUrl?: pulumi.Output<string>;
  };
  readonly helm: {
    readonly timeoutSeconds: number;
    readonly maxHistory: number;
    readonly createNamespace: boolean;
    readonly adoptExistingRelease: boolean;
  };
  readonly verification: {
    readonly readyTimeoutSeconds: number;
    readonly licenseWarnDays: number;
    readonly maxSeats?: number;
    readonly logLines: number;
    readonly healthPath?: string;
  };
  readonly gate: {
    readonly protected: boolean;
    readonly acknowledgeUpgrade?: string;
    readonly destructive: boolean;
    /** Why a protected stack may connect with an sslmode weaker than verify-full; absent refuses it. */
    readonly allowUnverifiedDatabaseTls?: string;
  };
  readonly kubeContext?: string;
}

/** What loadConfig read from the stack, before validation. */
export interface RawConfig {
  readonly values: Readonly<Record<string, unknown>>;
  /** Problems found while reading (JSON that does not parse), reported with the rest. */
  readonly parseErrors: readonly string[];
  readonly pgDsn?: pulumi.Output<string>;
  readonly registryPassword?: pulumi.Output<string>;
  readonly redisUrl?: pulumi.Output<string>;
}

export namespace RawConfig {
  /** Every config key the program reads; Pulumi.yaml declares the same list. */
  export const keys = [
    "application",
    "namespace",
    "releaseName",
    "chart",
    "chartRepository",
    "chartVersion",
    "tier",
    "baseValuesFile",
    "tierValuesFile",
    "siteValuesFile",
    "siteValues",
    "imageTags",
    "imageRepositories",
    "registryInsecure",
    "registryUsername",
    "registryPassword",
    "baseUrl",
    "dsnSecret",
    "pgDsn",
    "schemaVersionQuery",
    "snapshotDir",
    "snapshotFormat",
    "snapshotJobs",
    "snapshotCompression",
    "backupSecrets",
    "redisUrl",
    "helmTimeoutSeconds",
    "maxHistory",
    "createNamespace",
    "adoptExistingRelease",
    "readyTimeoutSeconds",
    "licenseWarnDays",
    "maxSeats",
    "logLines",
    "protected",
    "acknowledgeUpgrade",
    "destructive",
    "allowUnverifiedDatabaseTls",
    "kubeContext",
  ] as const;
  export const secretKeys = ["pgDsn", "registryPassword", "redisUrl"] as const;
}

/** Every problem in a stack's config, reported at once. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `The stack's config has ${problems.length} problem${problems.length === 1 ? "" : "s"}; ` +
        `nothing was changed:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "ConfigError";
  }
}

export interface ValidationContext {
  readonly project: string;
  readonly stack: string;
  /** Relative paths in config are resolved against this directory. */
  readonly projectDir: string;
}

export interface ValidationResult {
  readonly config: RunbookConfig;
  readonly warnings: readonly string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Collects problems while reading typed values; each problem names `<project>:<key>` and the fix. */
class Reader {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  constructor(
    private readonly raw: Readonly<Record<string, unknown>>,
    private readonly project: string,
  ) {}

  key(name: string): string {
    return `${this.project}:${name}`;
  }

  problem(name: string, message: string): void {
    this.problems.push(`${this.key(name)}: ${message}`);
  }

  has(name: string): boolean {
    const value = this.raw[name];
    return value !== undefined && value !== "";
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === "") return undefined;
    return String(value);
  }

  requiredString(name: string, example: string): string | undefined {
    const value = this.string(name);
    if (value === undefined) this.problem(name, `is required; set it with \`pulumi config set ${name} ${example}\``);
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T | undefined {
    const value = this.string(name);
    if (value === undefined) {
      if (fallback === undefined) {
        this.problem(name, `is required; set it to one of ${allowed.join(", ")}`);
      }
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(value)) {
      this.problem(name, `'${value}' is not one of ${allowed.join(", ")}`);
      return fallback;
    }
    return value as T;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    this.problem(name, `'${value}' is not a boolean; set it to true or false`);
    return fallback;
  }

  integer(name: string, fallback: number | undefined, min: number, max: number): number | undefined {
    const value = this.string(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `'${value}' must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  stringList(name: string): string[] | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
      this.problem(name, `must be a list of strings, e.g. \`pulumi config set --path '${name}[0]' ...\``);
      return undefined;
    }
    return value as string[];
  }

  stringMap(name: string): Record<string, string> | undefined {
    const value = this.raw[name];
    if (value === undefined) return undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      this.problem(
        name,
        `must be an object of component → string, e.g. \`pulumi config set --path '${name}.api' ...\``,
      );
      return undefined;
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== "string") {
        this.problem(`${name}.${k}`, `must be a string, got ${JSON.stringify(v)}; quote it in the stack file`);
      } else {
        out[k] = v;
      }
    }
    return out;
  }
}

function resolveFrom(projectDir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(projectDir, p);
}

function readYamlFile(file: string): unknown {
  return YAML.parse(fs.readFileSync(file, "utf8"));
}

/** `image.<component>.repository` from the layered values files, later files winning. */
function repositoriesFromValues(files: readonly string[], components: readonly string[]): Record<string, string> {
  const found: Record<string, string> = {};
  for (const file of files) {
    const doc = readYamlFile(file) as { image?: Record<string, { repository?: unknown }> } | null;
    for (const component of components) {
      const repository = doc?.image?.[component]?.repository;
      if (typeof repository === "string" && repository !== "") found[component] = repository;
    }
  }
  return found;
}

function validateChart(r: Reader, ctx: ValidationContext): ChartSource | undefined {
  const chart = r.requiredString("chart", "./charts/alexandria-ee");
  const repository = r.string("chartRepository");
  const version = r.string("chartVersion");
  if (chart === undefined) return undefined;
  const isRemote = chart.startsWith("oci://") || repository !== undefined;
  if (isRemote) {
    if (version === undefined) {
      r.problem(
        "chartVersion",
        `is required for the remote chart '${chart}'; pin it, e.g. \`pulumi config set chartVersion 1.4.2\``,
      );
      return undefined;
    }
    if (repository !== undefined && !/^(https?|oci):\/\//.test(repository)) {
      r.problem("chartRepository", `'${repository}' must be an https:// or oci:// URL`);
    }
    return { kind: "repository", chart, repository, version };
  }
  const chartDir = resolveFrom(ctx.projectDir, chart);
  const chartYaml = path.join(chartDir, "Chart.yaml");
  if (!fs.existsSync(chartYaml)) {
    r.problem(
      "chart",
      `'${chart}' is neither an oci:// URL nor a chart directory (no Chart.yaml at ${chartYaml}); ` +
        `point it at the chart directory, or set chartRepository and chartVersion for a repository chart`,
    );
    return undefined;
  }
  const chartVersion = String((readYamlFile(chartYaml) as { version?: unknown } | null)?.version ?? "");
  if (chartVersion === "") {
    r.problem("chart", `${chartYaml} has no version field`);
    return undefined;
  }
  if (version !== undefined && version !== chartVersion) {
    r.problem(
      "chartVersion",
      `is ${version} but the chart directory '${chart}' holds version ${chartVersion}; ` +
        `update the chart directory or the config so they agree`,
    );
  }
  return { kind: "local", path: chart, version: chartVersion };
}

function validateValuesFiles(
  r: Reader,
  ctx: ValidationContext,
  chart: ChartSource | undefined,
  tier: Tier | undefined,
): string[] {
  const files: string[] = [];
  const localDir = chart?.kind === "local" ? chart.path : undefined;
  const base = r.string("baseValuesFile") ?? (localDir === undefined ? undefined : path.join(localDir, "values.yaml"));
  const tierFile =
    r.string("tierValuesFile") ??
    (localDir === undefined || tier === undefined ? undefined : path.join(localDir, `values-${tier}.yaml`));
  if (tierFile === undefined && chart?.kind === "repository") {
    r.problem("tierValuesFile", `is required with a remote chart; point it at values-${tier ?? "<tier>"}.yaml`);
  }
  const site = r.string("siteValuesFile");
  const entries: Array<[string, string | undefined]> = [
    ["baseValuesFile", base],
    ["tierValuesFile", tierFile],
    ["siteValuesFile", site],
  ];
  for (const [key, file] of entries) {
    if (file === undefined) continue;
    const full = resolveFrom(ctx.projectDir, file);
    if (!fs.existsSync(full)) {
      r.problem(key, `the values file '${file}' does not exist (looked at ${full})`);
      continue;
    }
    try {
      readYamlFile(full);
    } catch (err) {
      r.problem(key, `the values file '${file}' is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
      continue;
    }
    files.push(file);
  }
  if (tier !== undefined && tierFile !== undefined && !path.basename(tierFile).includes(tier)) {
    r.warnings.push(
      `${r.key("tierValuesFile")}: '${tierFile}' does not name the tier '${tier}'; check it is the right file`,
    );
  }
  return files;
}

/** The Secrets to save with each snapshot: as configured, or em-runtime's two when none are. */
function validateBackupSecrets(r: Reader, application: Application): string[] {
  const names = r.stringList("backupSecrets") ?? [];
  for (const name of names) {
    if (!isSecretName(name)) {
      r.problem("backupSecrets", `'${name}' is not a Kubernetes Secret name (lowercase letters, digits, '-' and '.')`);
    }
  }
  if (new Set(names).size !== names.length) r.problem("backupSecrets", "names a Secret twice; list each once");
  return names.length === 0 && application === "em-runtime" ? [...EM_RUNTIME_BACKUP_SECRETS] : names;
}

function validateImages(
  r: Reader,
  ctx: ValidationContext,
  application: Application,
  isProtected: boolean,
  valuesFiles: readonly string[],
): { tags: Record<string, string>; repositories: Record<string, string> } {
  const tags = r.stringMap("imageTags");
  const required: readonly string[] = application === "alexandria-ee" ? ALEXANDRIA_COMPONENTS : [];
  if (tags === undefined) {
    r.problem(
      "imageTags",
      `is required: pin ${required.length ? required.join(", ") : "each component"}, e.g. ` +
        `\`pulumi config set --path 'imageTags.api' v1.2.3\``,
    );
    return { tags: {}, repositories: {} };
  }
  for (const component of required) {
    if (!(component in tags)) {
      r.problem(
        `imageTags.${component}`,
        `is missing; pin it with \`pulumi config set --path 'imageTags.${component}' v1.2.3\``,
      );
    }
  }
  if (Object.keys(tags).length === 0) r.problem("imageTags", "names no component; pin at least one image tag");
  for (const [component, tag] of Object.entries(tags)) {
    const problem = tagProblem(tag, { protectedStack: isProtected });
    if (problem !== undefined) r.problem(`imageTags.${component}`, `the tag ${problem}`);
  }
  const configured = r.stringMap("imageRepositories") ?? {};
  const fromValues = repositoriesFromValues(
    valuesFiles.map((f) => resolveFrom(ctx.projectDir, f)),
    Object.keys(tags),
  );
  const repositories: Record<string, string> = {};
  for (const component of Object.keys(tags)) {
    const repository = configured[component] ?? fromValues[component];
    if (repository === undefined) {
      r.problem(
        `imageRepositories.${component}`,
        `is unknown: set it (e.g. us-docker.pkg.dev/acme/alexandria/${component}) ` +
          `or put image.${component}.repository in a values file, so preflight can check the tag exists`,
      );
    } else if (/[:@]/.test(repository.split("/").slice(1).join("/"))) {
      r.problem(
        `imageRepositories.${component}`,
        `'${repository}' must not carry a tag or digest; the tag comes from imageTags`,
      );
    } else {
      repositories[component] = repository;
    }
  }
  return { tags, repositories };
}

/** Validates the raw stack config into a RunbookConfig, or throws ConfigError listing every problem. */
export function validateConfig(raw: RawConfig, ctx: ValidationContext): ValidationResult {
  const r = new Reader(raw.values, ctx.project);
  r.problems.push(...raw.parseErrors);

  const application = r.oneOf("application", APPLICATIONS, "alexandria-ee") as Application;
  const namespace = r.requiredString("namespace", "alexandria");
  const namespaceProblem = namespace === undefined ? undefined : namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) r.problem("namespace", `'${namespace}' ${namespaceProblem}`);
  const releaseName = r.string("releaseName") ?? application;
  if (!DNS_LABEL.test(releaseName) || releaseName.length > 53) {
    r.problem(
      "releaseName",
      `'${releaseName}' is not a Helm release name (lower-case letters, digits and '-', at most 53)`,
    );
  }
  const tier = r.oneOf("tier", TIERS);
  const isProtected = r.boolean("protected", false);
  const chart = validateChart(r, ctx);
  const valuesFiles = validateValuesFiles(r, ctx, chart, tier);
  const siteValuesRaw = raw.values.siteValues;
  let siteValues: Record<string, unknown> = {};
  if (siteValuesRaw !== undefined) {
    if (typeof siteValuesRaw !== "object" || siteValuesRaw === null || Array.isArray(siteValuesRaw)) {
      r.problem("siteValues", "must be an object of Helm values");
    } else {
      siteValues = siteValuesRaw as Record<string, unknown>;
    }
  }
  const images = validateImages(r, ctx, application, isProtected, valuesFiles);

  const registryUsername = r.string("registryUsername");
  if (raw.registryPassword !== undefined && registryUsername === undefined) {
    r.problem(
      "registryUsername",
      "is required when registryPassword is set (Artifact Registry: oauth2accesstoken; GHCR: your user)",
    );
  }

  const baseUrl = r.requiredString("baseUrl", "https://alexandria.example.com");
  if (baseUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(baseUrl);
    } catch {
      r.problem("baseUrl", `'${baseUrl}' is not a URL; use e.g. https://alexandria.example.com`);
    }
    if (parsed !== undefined && !["http:", "https:"].includes(parsed.protocol)) {
      r.problem("baseUrl", `'${baseUrl}' must be http:// or https://`);
    }
    if (parsed !== undefined && (parsed.username || parsed.password)) {
      r.problem("baseUrl", "must not carry credentials");
    }
    if (parsed?.protocol === "http:" && isProtected && !["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname)) {
      r.warnings.push(`${r.key("baseUrl")}: verification of a protected stack over plain http (${baseUrl})`);
    }
  }

  let dsnSecret: RunbookConfig["dsnSecret"];
  const dsnSecretText = r.string("dsnSecret");
  if (dsnSecretText !== undefined) {
    const match = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([-._a-zA-Z0-9]+)$/.exec(dsnSecretText);
    if (match === null) {
      r.problem("dsnSecret", `'${dsnSecretText}' must be <secret-name>/<key>, e.g. alexandria-db/dsn`);
    } else {
      dsnSecret = { name: match[1], key: match[3] };
    }
  }
  if (dsnSecret === undefined && raw.pgDsn === undefined && dsnSecretText === undefined) {
    r.problem(
      "dsnSecret",
      "or pgDsn is required: name the Kubernetes Secret holding the DSN " +
        "(`pulumi config set dsnSecret alexandria-db/dsn`) or set `pulumi config set --secret pgDsn postgres://...`",
    );
  }

  const snapshotFormat = r.oneOf("snapshotFormat", SNAPSHOT_FORMATS, "directory") as SnapshotFormat;
  const snapshotJobs = r.integer("snapshotJobs", 2, 1, 64) as number;
  if (snapshotFormat === "custom" && r.has("snapshotJobs") && snapshotJobs > 1) {
    r.problem("snapshotJobs", "parallel jobs need snapshotFormat=directory (pg_dump -j only writes directories)");
  }
  const timeoutSeconds = r.integer("helmTimeoutSeconds", 600, 30, 86_400) as number;
  const maxHistory = r.integer("maxHistory", 10, 0, 1000) as number;
  if (maxHistory !== 0 && maxHistory < 3) {
    r.problem(
      "maxHistory",
      `${maxHistory} revisions leave no room to roll back through a failed upgrade; use at least 3 (0 = unlimited)`,
    );
  }
  const acknowledgeUpgrade = r.string("acknowledgeUpgrade");
  if (acknowledgeUpgrade !== undefined && images.tags.api !== undefined && acknowledgeUpgrade !== images.tags.api) {
    r.warnings.push(
      `${r.key("acknowledgeUpgrade")}: acknowledges ${acknowledgeUpgrade} but the target api tag is ` +
        `${images.tags.api}; it only counts for that exact target`,
    );
  }
  const readyTimeoutSeconds = r.integer("readyTimeoutSeconds", 300, 1, 3600) as number;
  const licenseWarnDays = r.integer("licenseWarnDays", 30, 0, 3650) as number;
  // 0 (Pulumi.yaml's default) leaves the bound to the license's own seat count.
  const maxSeats = r.integer("maxSeats", 0, 0, 10_000_000) || undefined;
  const logLines = r.integer("logLines", 50, 0, 10_000) as number;
  const snapshotCompression = r.integer("snapshotCompression", 1, 0, 9) as number;
  const snapshotDir = r.string("snapshotDir") ?? path.join("snapshots", ctx.stack);
  const backupSecrets = validateBackupSecrets(r, application);
  const createNamespace = r.boolean("createNamespace", false);
  const adoptExistingRelease = r.boolean("adoptExistingRelease", false);
  const destructive = r.boolean("destructive", false);
  const registryInsecure = r.boolean("registryInsecure", false);
  if (registryInsecure && isProtected) {
    r.problem("registryInsecure", "a protected stack checks its images over TLS only; remove registryInsecure");
  }
  const allowUnverifiedDatabaseTls = r.string("allowUnverifiedDatabaseTls");
  const kubeContext = r.string("kubeContext");
  const schemaVersionQuery = r.string("schemaVersionQuery");

  if (r.problems.length > 0) throw new ConfigError(r.problems);

  return {
    warnings: r.warnings,
    config: {
      project: ctx.project,
      stack: ctx.stack,
      application,
      namespace: namespace as string,
      releaseName,
      chart: chart as ChartSource,
      tier: tier as Tier,
      valuesFiles,
      siteValues,
      imageTags: images.tags,
      imageRepositories: images.repositories,
      registryInsecure,
      registryUsername,
      registryPassword: raw.registryPassword,
      baseUrl: baseUrl as string,
      dsnSecret,
      pgDsn: raw.pgDsn,
      schemaVersionQuery,
      snapshot: {
        dir: snapshotDir,
        format: snapshotFormat,
        jobs: snapshotJobs,
        compression: snapshotCompression,
        secrets: backupSecrets,
        redisUrl: raw.redisUrl,
      },
      helm: { timeoutSeconds, maxHistory, createNamespace, adoptExistingRelease },
      verification: {
        readyTimeoutSeconds,
        licenseWarnDays,
        maxSeats,
        logLines,
        healthPath: application === "em-runtime" ? EM_RUNTIME_HEALTH_PATH : undefined,
      },
      gate: { protected: isProtected, acknowledgeUpgrade, destructive, allowUnverifiedDatabaseTls },
      kubeContext,
    },
  };
}
