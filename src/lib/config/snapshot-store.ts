import { CONFIG_KEYS, StoreSettingProblem, StoreSettings, parseStoreSettings } from "../snapshot-store/settings";
import type { Reader } from "./reader";

/** snapshotStore, snapshotStoreEndpoint, snapshotStoreRegion: checked by the same rule as the CLI's --store flags. */
export function readSnapshotStore(r: Reader, projectDir: string): StoreSettings | undefined {
  try {
    return parseStoreSettings(
      {
        store: r.string(CONFIG_KEYS.store),
        endpoint: r.string(CONFIG_KEYS.endpoint),
        region: r.string(CONFIG_KEYS.region),
      },
      CONFIG_KEYS,
      projectDir,
    );
  } catch (err) {
    if (!(err instanceof StoreSettingProblem)) throw err;
    r.problem(err.setting, err.problem);
    return undefined;
  }
}
