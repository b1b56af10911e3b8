/**
 * The major version in server_version_num form: 150004 → 15, 90624 → 9.6 (majors before 10 had two parts).
 */
export function majorOfVersionNum(versionNum: number): string {
  if (versionNum >= 100000) return String(Math.floor(versionNum / 10000));
  return `${Math.floor(versionNum / 10000)}.${Math.floor(versionNum / 100) % 100}`;
}

/** The major version of a version string such as "15.4", "16beta2" or "9.6.24". */
export function majorOfVersion(version: string): string | undefined {
  const match = /^(\d+)(?:\.(\d+))?/.exec(version);
  if (match === null) return undefined;
  const first = Number(match[1]);
  return first >= 10 ? String(first) : `${first}.${match[2] ?? "0"}`;
}

/** Compares two major versions as produced above; negative when a is older than b. */
export function compareMajors(a: string, b: string): number {
  const [a1, a2 = "0"] = a.split(".");
  const [b1, b2 = "0"] = b.split(".");
  return Number(a1) - Number(b1) || Number(a2) - Number(b2);
}
