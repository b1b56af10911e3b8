/** Where the runbook reaches the application and its data: baseUrl, dsnSecret/pgDsn, backupSecrets. */
import { isSecretKey, isSecretName } from "../kube/names";
import type { Profile } from "../profiles";
import type { ParsedKeys } from "./keys";
import type { Reader } from "./reader";
import type { RawConfig, RunbookConfig } from "./schema";

export function validateBaseUrl(r: Reader, keys: ParsedKeys): { text?: string; url?: URL } {
  const text = keys.baseUrl;
  if (text === undefined) return {};
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    r.problem("baseUrl", `'${text}' is not a URL; use e.g. https://alexandria.example.com`);
    return { text };
  }
  if (!["http:", "https:"].includes(url.protocol)) r.problem("baseUrl", `'${text}' must be http:// or https://`);
  if (url.username || url.password) r.problem("baseUrl", "must not carry credentials");
  return { text, url };
}

/** The Kubernetes Secret (`name/key`) holding the DSN; it or the secret pgDsn must be set. */
export function validateDsnSecret(r: Reader, keys: ParsedKeys, raw: RawConfig): RunbookConfig["dsnSecret"] {
  const text = keys.dsnSecret;
  if (text === undefined) {
    if (raw.pgDsn === undefined) {
      r.problem(
        "dsnSecret",
        "or pgDsn is required: name the Kubernetes Secret holding the DSN " +
          "(`pulumi config set dsnSecret alexandria-db/dsn`) or set `pulumi config set --secret pgDsn postgres://...`",
      );
    }
    return undefined;
  }
  const slash = text.indexOf("/");
  const name = text.slice(0, slash);
  const key = text.slice(slash + 1);
  if (slash === -1 || !isSecretName(name) || !isSecretKey(key)) {
    r.problem("dsnSecret", `'${text}' must be <secret-name>/<key>, e.g. alexandria-db/dsn`);
    return undefined;
  }
  return { name, key };
}

/** The Secrets to save with each snapshot: as configured, or the profile's (em-runtime's two) when none are. */
export function validateBackupSecrets(r: Reader, keys: ParsedKeys, profile: Profile): string[] {
  const names = keys.backupSecrets ?? [];
  for (const name of names) {
    if (!isSecretName(name)) {
      r.problem("backupSecrets", `'${name}' is not a Kubernetes Secret name (lowercase letters, digits, '-' and '.')`);
    }
  }
  if (new Set(names).size !== names.length) r.problem("backupSecrets", "names a Secret twice; list each once");
  return names.length === 0 ? [...profile.backupSecrets] : names;
}
