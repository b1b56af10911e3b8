import { CONFIG_KEYS, StoreSettingProblem, StoreSettings, parseStoreSettings } from "../snapshot-store/settings";
import type { ParsedKeys } from "./keys";
import type { Reader } from "./reader";

/** snapshotStore, snapshotStoreEndpoint, snapshotStoreRegion: checked by the same rule as the CLI's --store flags. */
export function readSnapshotStore(r: Reader, keys: ParsedKeys, projectDir: string): StoreSettings | undefined {
  try {
    return parseStoreSettings(
      { store: keys.snapshotStore, endpoint: keys.snapshotStoreEndpoint, region: keys.snapshotStoreRegion },
      CONFIG_KEYS,
      projectDir,
    );
  } catch (err) {
    if (!(err instanceof StoreSettingProblem)) throw err;
    r.problem(err.setting, err.problem);
    return undefined;
  }
}
