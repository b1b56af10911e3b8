import fs from "node:fs/promises";

/** Permission bits that let the group or other users list, enter or change a directory. */
const OPEN_TO_OTHERS = 0o077;

export type SnapshotDirVerdict =
  { readonly allowed: true; readonly warning?: string } | { readonly allowed: false; readonly refusal: string };

/**
 * A snapshot holds the whole database. Its files are written 0600, but a directory that others can read still
 * shows them every snapshot's name, size and manifest, and one they can write lets them swap a dump before it is
 * restored. Anywhere this is a warning; in a protected stack it is refused before anything is written.
 */
export async function checkSnapshotDirPrivacy(
  dir: string,
  options: { readonly protectedStack: boolean },
): Promise<SnapshotDirVerdict> {
  const mode = (await fs.stat(dir)).mode & 0o777;
  if ((mode & OPEN_TO_OTHERS) === 0) return { allowed: true };
  const octal = `0${mode.toString(8).padStart(3, "0")}`;
  const who = [mode & 0o070 ? "its group" : undefined, mode & 0o007 ? "other users" : undefined]
    .filter((w) => w !== undefined)
    .join(" and ");
  const problem = `the snapshot directory ${dir} is mode ${octal}: ${who} can get at it`;
  const fix = `run chmod 700 ${dir}`;
  if (options.protectedStack) {
    return { allowed: false, refusal: `${problem}; a protected stack keeps its snapshots private: ${fix}` };
  }
  return { allowed: true, warning: `${problem}; ${fix}` };
}
