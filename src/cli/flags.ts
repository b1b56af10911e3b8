import { ParsedValues } from "./command";
import { UsageError } from "../lib/errors";
import { isSecretKey, isSecretName } from "../lib/kube";

/** A string flag's trimmed value; undefined when absent, a usage error when given empty. */
export function optionalString(values: ParsedValues, flag: string): string | undefined {
  const value = values[flag];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${flag} must not be empty`);
  return value.trim();
}

/** --base-url: an http(s) address without credentials; undefined when absent. */
export function baseUrlFlag(values: ParsedValues, example: string, flag = "base-url"): string | undefined {
  const baseUrl = optionalString(values, flag);
  if (baseUrl === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(baseUrl);
  } catch {
    throw new UsageError(`--${flag} '${baseUrl}' is not a URL: give e.g. --${flag} ${example}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--${flag} must be an http:// or https:// URL, got '${parsed.protocol}'`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new UsageError(`--${flag} must not carry credentials (user:password@): the checks use no authentication`);
  }
  return baseUrl;
}

/** --health-path: a path of the application, e.g. /api/governance/health; undefined when absent. */
export function healthPathFlag(values: ParsedValues): string | undefined {
  const path = optionalString(values, "health-path");
  if (path !== undefined && !path.startsWith("/")) {
    throw new UsageError(`--health-path must start with '/', e.g. /api/governance/health`);
  }
  return path;
}

/** An equality label selector as `kubectl get pods -l` takes it: `key=value[,key=value]`. */
const LABEL_SELECTOR =
  /^[A-Za-z0-9][A-Za-z0-9._/-]*(?:==|!=|=)[A-Za-z0-9._-]*(?:,[A-Za-z0-9][A-Za-z0-9._/-]*(?:==|!=|=)[A-Za-z0-9._-]*)*$/;

/** A label selector flag; undefined when absent. */
export function labelSelectorFlag(values: ParsedValues, flag: string, example: string): string | undefined {
  const selector = optionalString(values, flag);
  if (selector !== undefined && !LABEL_SELECTOR.test(selector)) {
    throw new UsageError(
      `--${flag} '${selector}' is not a label selector KEY=VALUE[,KEY=VALUE]: write e.g. --${flag} ${example}`,
    );
  }
  return selector;
}

/** A `NAME/KEY` flag naming a Secret of the namespace and one of its keys; undefined when absent. */
export function secretKeyFlag(
  values: ParsedValues,
  flag: string,
  example: string,
): { name: string; key: string } | undefined {
  const text = optionalString(values, flag);
  if (text === undefined) return undefined;
  const slash = text.indexOf("/");
  const name = slash === -1 ? text : text.slice(0, slash);
  const key = slash === -1 ? "" : text.slice(slash + 1);
  if (!isSecretName(name) || !isSecretKey(key)) {
    throw new UsageError(
      `--${flag} '${text}' is not NAME/KEY: write e.g. --${flag} ${example} (the Secret and its key)`,
    );
  }
  return { name, key };
}
