import * as pulumi from "@pulumi/pulumi";
import { factsOf, JSON_KEYS, SECRET_KEYS } from "../src/lib/config/keys";
import { RawConfig, RunbookConfig } from "../src/lib/config/schema";
import { validateConfig } from "../src/lib/config/validate";

export { ConfigError, RunbookConfig } from "../src/lib/config/schema";

/**
 * Reads every key of the stack's config without throwing, so that validation can report all problems at
 * once. Secrets stay Outputs marked secret: only their presence is validated here.
 */
function readRawConfig(config: pulumi.Config): RawConfig {
  const raw: Record<string, unknown> = {};
  const parseErrors: string[] = [];
  for (const key of RawConfig.keys) {
    if (SECRET_KEYS.includes(key)) continue;
    const text = config.get(key);
    if (text === undefined) continue;
    if (JSON_KEYS.includes(key)) {
      try {
        raw[key] = JSON.parse(text);
      } catch {
        parseErrors.push(
          factsOf(key).json === "list"
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
  const secret = (key: (typeof SECRET_KEYS)[number]) => {
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
    chartRegistryPassword: secret("chartRegistryPassword"),
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
