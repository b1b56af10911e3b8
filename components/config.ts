import * as pulumi from "@pulumi/pulumi";
import { RawConfig, RunbookConfig } from "../src/lib/config/schema";
import { validateConfig } from "../src/lib/config/validate";

export { ConfigError, RunbookConfig } from "../src/lib/config/schema";

/** Keys read as JSON objects or arrays; everything else is a string, number or boolean. */
const OBJECT_KEYS = ["imageTags", "imageRepositories", "siteValues", "backupSecrets"] as const;

/**
 * Reads every key of the stack's config without throwing, so that validation can report all problems at
 * once. Secrets stay Outputs marked secret: only their presence is validated here.
 */
function readRawConfig(config: pulumi.Config): RawConfig {
  const raw: Record<string, unknown> = {};
  const parseErrors: string[] = [];
  for (const key of RawConfig.keys) {
    if ((RawConfig.secretKeys as readonly string[]).includes(key)) continue;
    const text = config.get(key);
    if (text === undefined) continue;
    if ((OBJECT_KEYS as readonly string[]).includes(key)) {
      try {
        raw[key] = JSON.parse(text);
      } catch {
        parseErrors.push(
          key === "backupSecrets"
            ? `${config.name}:${key}: not valid JSON; set it as a list, e.g. ` +
                `\`pulumi config set --path '${key}[0]' em-runtime-secrets\``
            : `${config.name}:${key}: not valid JSON; set it as an object, e.g. ` +
                `\`pulumi config set --path '${key}.api' v1.2.3\``,
        );
      }
    } else {
      raw[key] = text;
    }
  }
  // Pulumi.yaml gives the secrets an empty default, so a key counts as set only when it holds text. A
  // secret stored in plain text in the stack file would be committed: refuse it.
  const secret = (key: (typeof RawConfig.secretKeys)[number]) => {
    const fullKey = `${config.name}:${key}`;
    if ((pulumi.runtime.getConfig(fullKey) ?? "") === "") return undefined;
    if (!isConfigSecret(fullKey)) {
      parseErrors.push(
        `${fullKey}: is stored in plain text; remove it and set it with \`pulumi config set --secret ${key} ...\``,
      );
    }
    return config.getSecret(key);
  };
  return {
    values: raw,
    parseErrors,
    pgDsn: secret("pgDsn"),
    registryPassword: secret("registryPassword"),
    redisUrl: secret("redisUrl"),
    snapshotStoreAccessKeyId: secret("snapshotStoreAccessKeyId"),
    snapshotStoreSecretAccessKey: secret("snapshotStoreSecretAccessKey"),
  };
}

/** Whether the engine handed this key to the program as a secret (the SDK exports this without a type). */
function isConfigSecret(fullKey: string): boolean {
  const runtime = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
  return runtime.isConfigSecret?.(fullKey) ?? false;
}

/**
 * The one place the program reads its config: every key validated before any resource is registered.
 * Throws a ConfigError listing every problem, each naming the key and how to fix it.
 */
export function loadConfig(projectDir: string): RunbookConfig {
  const config = new pulumi.Config();
  const result = validateConfig(readRawConfig(config), {
    project: config.name,
    stack: pulumi.getStack(),
    projectDir,
  });
  for (const warning of result.warnings) pulumi.log.warn(warning);
  return result.config;
}
