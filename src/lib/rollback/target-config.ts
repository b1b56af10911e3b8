import type { Stack } from "@pulumi/pulumi/automation";
import { TARGET_KEYS, TargetVersions } from "./targets";

/** Writes the target's versions into the stack's config (Pulumi.<stack>.yaml), as a person would with `pulumi config set`. */
export async function setTargetConfig(stack: Stack, current: TargetVersions, target: TargetVersions): Promise<void> {
  for (const component of Object.keys(current.imageTags)) {
    if (!(component in target.imageTags)) await stack.removeConfig(`imageTags.${component}`, true);
  }
  for (const [component, tag] of Object.entries(target.imageTags)) {
    await stack.setConfig(`imageTags.${component}`, { value: tag, secret: false }, true);
  }
  for (const key of TARGET_KEYS) {
    const value = target[key];
    if (value !== undefined) await stack.setConfig(key, { value, secret: false });
    else if (current[key] !== undefined) await stack.removeConfig(key);
  }
}
