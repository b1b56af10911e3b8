import { CliCommand, CommandResult, ParsedValues } from "../command";
import { UsageError } from "../../lib/errors";
import { namespaceNameProblem, releaseNameProblem } from "../../lib/kube";
import { parsePgDsn, PG_DSN_ENV } from "../../lib/pg/connection";
import { credentialsFromEnv, InvalidImageReference, parseImageReference } from "../../lib/registry";
import { failedCheckNames, formatChecks } from "../../lib/check";
import {
  ApplicationPreflight,
  PreflightImage,
  PreflightOptions,
  PreflightReport,
  runPreflight,
} from "../../lib/preflight/preflight";
import { ACKNOWLEDGE_CONFIG_KEY } from "../../lib/preflight/upgrade-gate";
import { ALLOW_UNVERIFIED_TLS_CONFIG_KEY } from "../../lib/pg/tls-policy";
import { tagProblem } from "../../lib/release/image-tags";
import { baseUrlFlag, healthPathFlag, labelSelectorFlag, optionalString, secretKeyFlag } from "../flags";

const HELP = `usage: runbook preflight --namespace NS --release NAME --image COMPONENT=IMAGE... [options]
       runbook preflight --namespace NS --release NAME --chart-version VERSION [--image COMPONENT=IMAGE]... [options]

Refuses an upgrade unless every check passes. Every check runs and is reported (name, ok, skipped, detail);
the command fails (exit 1) if any failed.

Checks:
  image:<component>   the image tag (or digest) exists in its registry (OCI distribution API)
  release-revision    the current Helm revision of the release, read from Helm's release Secrets
  pods-healthy        pods labelled app.kubernetes.io/instance=RELEASE are Running and Ready, none
                      crash-looping (SKIP on a first install)
  dsn-secret          the DSN Secret exists in the namespace (SKIP without --dsn-secret)
  database            the database answers: server version, and the schema version when asked; in a
                      protected stack the DSN must have sslmode=verify-full (anything weaker accepts a
                      certificate that does not prove the host) unless --allow-unverified-database-tls
  minor-version-gate  in a protected stack, crossing a minor version of api (or --destructive) needs
                      --acknowledge equal to the exact target api tag (config ${ACKNOWLEDGE_CONFIG_KEY});
                      with --chart-version, of the chart version instead

  The application's own checks (em-runtime's guide), each run when its flag is given:
  namespace-pods      --all-pods: every pod of the namespace, not only the release's, Running and Ready
                      (kubectl get pods -n NS; SKIP when the namespace has none)
  infrastructure-pods --infrastructure-selector SELECTOR: the pods it labels (PostgreSQL, Redis) Running
                      and Ready (SKIP when none: the databases run elsewhere)
  health-before       --base-url URL --health-path PATH: GET PATH over the base URL answers 200 before the
                      upgrade (3 attempts; SKIP on a first install)
  base-url            --base-url URL --base-url-secret NAME/KEY: the address in that Secret key equals
                      --base-url, both normalised (scheme and host case, default port, trailing slash);
                      no other value of the Secret is read into the output (SKIP on a first install
                      without the Secret)

Options:
  --namespace NS                 the release's namespace (required unless --skip-cluster)
  --release NAME                 the Helm release, e.g. alexandria-ee (required unless --skip-cluster)
  --context NAME                 kubeconfig context (default: the current one; KUBECONFIG is honoured)
  --image COMPONENT=IMAGE        a target image, e.g. api=us-docker.pkg.dev/proj/repo/api:v1.2.3;
                                 repeatable
  --images LIST                  the same as a comma list: "api=REF,orchestrator=REF,dashboard=REF"
  --chart-version VERSION        the target chart version, for an application whose chart version pins its
                                 images (em-runtime): the minor-version gate compares it with the live
                                 release's chart version instead of api tags, and no image is required
  --registry-insecure            allow plain HTTP to registries that are not on loopback
                                 (alias --insecure-registry)
  --dsn-secret NAME/KEY          the Secret (and key) in the namespace that holds the DSN; the database
                                 check connects with it unless PG_DSN is set (for when the in-cluster
                                 address is not reachable from here)
  --all-pods                     check every pod of the namespace (namespace-pods)
  --infrastructure-selector SEL  the infrastructure pods' label, e.g. app.kubernetes.io/component=database
  --base-url URL                 the application's public address (health-before, base-url)
  --health-path PATH             checked before the upgrade, e.g. /api/governance/health
  --base-url-secret NAME/KEY     the Secret key holding the address, e.g. em-runtime-secrets/base-url
  --request-timeout SECONDS      deadline of each health-before request (default 10)
  --schema-version-query SQL     a read-only SELECT whose first column is the schema/migration version
  --protected                    a protected stack: tags must be semver (v1.2.3) or sha256: digests,
                                 and the minor-version gate applies
  --acknowledge TAG              the target api tag (with --chart-version: the chart version) the operator
                                 acknowledged
  --destructive                  the release is flagged destructive (needs --acknowledge when protected)
  --allow-unverified-database-tls REASON
                                 why this protected stack may connect with an sslmode weaker than
                                 verify-full (config ${ALLOW_UNVERIFIED_TLS_CONFIG_KEY}); the database check
                                 then passes with a warning quoting REASON
  --snapshot-dir DIR             with --stack: the stack's snapshots, whose manifests record the schema each
                                 api tag ran with; refuses a target whose schema the live one is newer than
                                 (schema-guard: never start an older application on a newer schema)
  --stack NAME                   the Pulumi stack the snapshots were taken for
  --skip-cluster                 for operators without cluster access: skip the cluster checks (each
                                 reported as SKIP, as is the minor-version gate unless acknowledged);
                                 the DSN then comes from PG_DSN
  --json                         print one JSON object: {ok, checks: [{name, ok, skipped?, detail}],
                                 releaseRevision, releaseStatus, firstInstall, currentApiTag,
                                 serverVersion, schemaVersion, images: [{component, image, status, digest?}]}

Environment (secrets never go on the command line):
  PG_DSN                                   postgres://USER:PASSWORD@HOST:PORT/DB (required without
                                           --dsn-secret; with it, used to connect instead)
  REGISTRY_USERNAME, REGISTRY_PASSWORD     registry credentials (Artifact Registry: oauth2accesstoken and
                                           an access token; GHCR: user and PAT)
  REGISTRY_TOKEN                           a bearer token, used as is
  KUBECONFIG                               the kubeconfig naming the cluster (default ~/.kube/config)

Exit codes: 0 every check passed, 1 a check failed, 2 bad usage.`;

export const preflightCommand: CliCommand = {
  name: "preflight",
  summary: "refuse an upgrade unless images exist, the release and pods are healthy, the database answers",
  help: HELP,
  options: {
    namespace: { type: "string" },
    release: { type: "string" },
    context: { type: "string" },
    image: { type: "string", multiple: true },
    images: { type: "string" },
    "chart-version": { type: "string" },
    "registry-insecure": { type: "boolean" },
    "insecure-registry": { type: "boolean" },
    "dsn-secret": { type: "string" },
    "schema-version-query": { type: "string" },
    protected: { type: "boolean" },
    acknowledge: { type: "string" },
    destructive: { type: "boolean" },
    "allow-unverified-database-tls": { type: "string" },
    "snapshot-dir": { type: "string" },
    stack: { type: "string" },
    "skip-cluster": { type: "boolean" },
    "all-pods": { type: "boolean" },
    "infrastructure-selector": { type: "string" },
    "base-url": { type: "string" },
    "health-path": { type: "string" },
    "base-url-secret": { type: "string" },
    "request-timeout": { type: "string" },
  },
  async run(values, env): Promise<CommandResult> {
    const options = preflightOptionsFrom(values, env);
    const report = await runPreflight(options);
    return { ok: report.ok, json: { ...report }, text: textReport(options, report) };
  },
};

function textReport(options: PreflightOptions, report: PreflightReport): string {
  const subject =
    options.cluster === undefined
      ? "preflight (--skip-cluster)"
      : `preflight ${options.cluster.release} in namespace ${options.cluster.target.namespace}`;
  const facts = [
    report.firstInstall === true
      ? "first install"
      : report.releaseRevision === null
        ? undefined
        : `revision ${report.releaseRevision} (${report.releaseStatus})`,
    report.currentApiTag === null ? undefined : `running api ${report.currentApiTag}`,
    report.serverVersion === null ? undefined : `PostgreSQL ${report.serverVersion}`,
    report.schemaVersion === null ? undefined : `schema ${report.schemaVersion}`,
  ].filter((f): f is string => f !== undefined);
  return [
    `${subject}${options.protectedStack ? " — protected stack" : ""}`,
    formatChecks(report.checks),
    ...(facts.length > 0 ? [facts.join("; ")] : []),
    report.ok ? "preflight: every check passed" : `preflight: FAILED (${failedCheckNames(report.checks).join(", ")})`,
  ].join("\n");
}

const COMPONENT = /^[a-z][a-z0-9-]*$/;

function preflightOptionsFrom(values: ParsedValues, env: NodeJS.ProcessEnv): PreflightOptions {
  const protectedStack = values.protected === true;
  const skipCluster = values["skip-cluster"] === true;
  const gateChartVersion = optionalString(values, "chart-version");
  const images = parseImages(values, protectedStack, gateChartVersion !== undefined);

  const namespace = optionalString(values, "namespace");
  const release = optionalString(values, "release");
  const context = optionalString(values, "context");
  const namespaceProblem = namespace === undefined ? undefined : namespaceNameProblem(namespace);
  if (namespaceProblem !== undefined) throw new UsageError(`--namespace '${namespace}' ${namespaceProblem}`);
  const releaseProblem = release === undefined ? undefined : releaseNameProblem(release);
  if (releaseProblem !== undefined) throw new UsageError(`--release '${release}' ${releaseProblem}`);

  if (!skipCluster && (namespace === undefined || release === undefined)) {
    throw new UsageError(
      `${namespace === undefined ? "--namespace" : "--release"} is required to check the cluster: give --namespace NS ` +
        "--release NAME, or --skip-cluster to run without cluster access",
    );
  }

  const dsnSecret = parseDsnSecret(values);
  const envDsn = env[PG_DSN_ENV] !== undefined && env[PG_DSN_ENV] !== "" ? env[PG_DSN_ENV] : undefined;
  const readsSecret = dsnSecret !== undefined && !skipCluster;
  if (envDsn !== undefined) {
    // A DSN that cannot be parsed is bad config (exit 2); the message never quotes it.
    parsePgDsn(envDsn);
  } else if (!readsSecret) {
    throw new UsageError(
      dsnSecret !== undefined
        ? `--skip-cluster cannot read --dsn-secret ${dsnSecret.name}/${dsnSecret.key}: export ${PG_DSN_ENV}=postgres://USER:PASSWORD@HOST:PORT/DB instead`
        : `no database to check: give --dsn-secret NAME/KEY (read from the cluster) or export ${PG_DSN_ENV}=postgres://USER:PASSWORD@HOST:PORT/DB`,
    );
  }

  const schemaVersionQuery = optionalString(values, "schema-version-query");
  const acknowledge = optionalString(values, "acknowledge");
  const allowUnverifiedDatabaseTls = optionalString(values, "allow-unverified-database-tls");
  const snapshotDir = optionalString(values, "snapshot-dir");
  const stack = optionalString(values, "stack");
  if ((snapshotDir === undefined) !== (stack === undefined)) {
    throw new UsageError("--snapshot-dir and --stack go together (the schema guard reads that stack's snapshots)");
  }
  return {
    images,
    registry: {
      credentials: credentialsFromEnv(env),
      allowInsecure: values["registry-insecure"] === true || values["insecure-registry"] === true,
    },
    ...(skipCluster || namespace === undefined || release === undefined
      ? {}
      : { cluster: { target: { namespace, ...(context === undefined ? {} : { context }) }, release } }),
    ...(dsnSecret === undefined ? {} : { dsnSecret }),
    ...(envDsn === undefined ? {} : { envDsn }),
    ...(schemaVersionQuery === undefined ? {} : { schemaVersionQuery }),
    protectedStack,
    ...(gateChartVersion === undefined ? {} : { gateChartVersion }),
    destructive: values.destructive === true,
    ...(acknowledge === undefined ? {} : { acknowledge }),
    ...(allowUnverifiedDatabaseTls === undefined ? {} : { allowUnverifiedDatabaseTls }),
    ...(snapshotDir === undefined || stack === undefined ? {} : { snapshots: { dir: snapshotDir, stack } }),
    ...applicationChecks(values),
    env,
  };
}

/** The application's own checks (em-runtime), from their flags; none when no flag asks for one. */
function applicationChecks(values: ParsedValues): { application?: ApplicationPreflight } {
  const allPods = values["all-pods"] === true;
  const infrastructureSelector = labelSelectorFlag(
    values,
    "infrastructure-selector",
    "app.kubernetes.io/component=database",
  );
  const baseUrl = baseUrlFlag(values, "https://em.example.com");
  const healthPath = healthPathFlag(values);
  const baseUrlSecret = secretKeyFlag(values, "base-url-secret", "em-runtime-secrets/base-url");
  const timeout = optionalString(values, "request-timeout");
  if (baseUrl === undefined && (healthPath !== undefined || baseUrlSecret !== undefined)) {
    throw new UsageError(
      `--${healthPath !== undefined ? "health-path" : "base-url-secret"} needs --base-url (the application's address)`,
    );
  }
  if (baseUrl !== undefined && healthPath === undefined && baseUrlSecret === undefined) {
    throw new UsageError(
      "--base-url is used by --health-path and --base-url-secret: give one of them, or leave it out",
    );
  }
  if (timeout !== undefined && healthPath === undefined) {
    throw new UsageError("--request-timeout is the deadline of --health-path's requests: give --health-path");
  }
  const requestTimeoutSeconds = timeout === undefined ? 10 : Number(timeout);
  if (!/^\d+(\.\d+)?$/.test(timeout ?? "10") || requestTimeoutSeconds <= 0) {
    throw new UsageError(`--request-timeout must be a number of seconds above 0, got '${timeout}'`);
  }
  if (!allPods && infrastructureSelector === undefined && baseUrl === undefined) return {};
  return {
    application: {
      allPods,
      ...(infrastructureSelector === undefined ? {} : { infrastructureSelector }),
      ...(baseUrl === undefined || healthPath === undefined
        ? {}
        : { health: { baseUrl, path: healthPath, requestTimeoutMs: requestTimeoutSeconds * 1000 } }),
      ...(baseUrl === undefined || baseUrlSecret === undefined ? {} : { baseUrlSecret: { ...baseUrlSecret, baseUrl } }),
    },
  };
}

/** --image COMPONENT=REF (repeatable) and --images "a=REF,b=REF", validated as a whole. */
function parseImages(values: ParsedValues, protectedStack: boolean, chartPinsImages: boolean): PreflightImage[] {
  const pairs: { flag: string; text: string }[] = [];
  for (const text of (values.image as string[] | undefined) ?? []) pairs.push({ flag: "--image", text });
  const list = values.images as string | undefined;
  if (list !== undefined) {
    for (const text of list.split(",")) if (text.trim() !== "") pairs.push({ flag: "--images", text });
  }
  if (pairs.length === 0 && !chartPinsImages) {
    throw new UsageError(
      'no target images: give --image api=REGISTRY/REPOSITORY:TAG (repeatable) or --images "api=REF,orchestrator=REF", ' +
        "or --chart-version VERSION when the chart version pins the images",
    );
  }
  const images: PreflightImage[] = [];
  for (const { flag, text } of pairs) {
    const eq = text.indexOf("=");
    const component = eq === -1 ? "" : text.slice(0, eq).trim();
    const refText = eq === -1 ? "" : text.slice(eq + 1).trim();
    if (!COMPONENT.test(component) || refText === "") {
      throw new UsageError(
        `${flag} '${text}' is not COMPONENT=IMAGE: write e.g. ${flag} api=us-docker.pkg.dev/proj/repo/api:v1.2.3`,
      );
    }
    if (images.some((i) => i.component === component)) {
      throw new UsageError(`${flag}: component '${component}' is given twice; give each component one image`);
    }
    let ref;
    try {
      ref = parseImageReference(refText);
    } catch (err) {
      if (err instanceof InvalidImageReference) throw new UsageError(`${flag} ${component}: ${err.message}`);
      throw err;
    }
    if (ref.tag === undefined && ref.digest === undefined) {
      throw new UsageError(`${flag} ${component}: '${refText}' names no tag; pin one, e.g. ${refText}:v1.2.3`);
    }
    const problem = ref.tag === undefined ? undefined : tagProblem(ref.tag, { protectedStack });
    if (problem !== undefined) throw new UsageError(`${flag} ${component}: the tag ${problem}`);
    images.push({ component, ref });
  }
  return images;
}

function parseDsnSecret(values: ParsedValues): { name: string; key: string } | undefined {
  return secretKeyFlag(values, "dsn-secret", "alexandria-db/dsn");
}
