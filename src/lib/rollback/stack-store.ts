import { STORE_ACCESS_KEY_ENV, STORE_SECRET_KEY_ENV } from "../s3/credentials";
import { CONFIG_KEYS, StoreSettings, parseStoreSettings } from "../snapshot-store/settings";
import { configValue, PlainConfig } from "./stack-config";

/** A stack's snapshot store and the environment its client reads credentials from. */
export interface StackStore {
  readonly settings: StoreSettings;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The stack's snapshotStore (relative directories against the project), with the stack's secret credentials
 * (snapshotStoreAccessKeyId/SecretAccessKey) when it has them, else those of the operator's environment.
 * Undefined when the stack keeps its snapshots in snapshotDir only.
 */
export function stackStore(config: PlainConfig, env: NodeJS.ProcessEnv, projectDir: string): StackStore | undefined {
  const settings = parseStoreSettings(
    {
      store: configValue(config, CONFIG_KEYS.store),
      endpoint: configValue(config, CONFIG_KEYS.endpoint),
      region: configValue(config, CONFIG_KEYS.region),
    },
    CONFIG_KEYS,
    projectDir,
  );
  if (settings === undefined) return undefined;
  const accessKeyId = configValue(config, "snapshotStoreAccessKeyId");
  const secretAccessKey = configValue(config, "snapshotStoreSecretAccessKey");
  return {
    settings,
    env:
      accessKeyId && secretAccessKey
        ? { ...env, [STORE_ACCESS_KEY_ENV]: accessKeyId, [STORE_SECRET_KEY_ENV]: secretAccessKey }
        : env,
  };
}
