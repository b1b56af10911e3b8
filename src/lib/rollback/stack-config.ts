import { PROJECT } from "./targets";

/** A stack's config as the Automation API returns it: `<namespace>:<key>` → value. */
export type PlainConfig = Record<string, { value: string; secret?: boolean }>;

/** `release-runbook:<key>` of a config map. */
export function configValue(config: PlainConfig, key: string): string | undefined {
  return config[`${PROJECT}:${key}`]?.value;
}
