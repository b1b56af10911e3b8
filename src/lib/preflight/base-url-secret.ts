import { KubeApiError, KubeTarget, readSecret, SecretObject } from "../kube";
import { normaliseBaseUrl } from "../http/base-url";
import { CheckResult, fail, pass, skip } from "../check";

export interface BaseUrlSecret {
  /** The Secret and key that hold the application's address: em-runtime-secrets, base-url. */
  readonly name: string;
  readonly key: string;
  /** The address the stack verifies (config baseUrl). */
  readonly baseUrl: string;
}

/**
 * The guide's "verify that hostname and scheme values match your Gateway and DNS configuration": the address
 * in the Secret (what em-runtime builds its links and redirects from) is config's baseUrl, compared normalised.
 * Only that key is decoded; no other value of the Secret is read into a message.
 */
export async function checkBaseUrlSecret(
  secret: BaseUrlSecret,
  target: KubeTarget,
  firstInstall: boolean,
  env: NodeJS.ProcessEnv,
): Promise<CheckResult> {
  const name = "base-url";
  const where = `Secret ${secret.name} in namespace ${target.namespace}`;
  let object: SecretObject;
  try {
    object = await readSecret(secret.name, target, env);
  } catch (err) {
    if (err instanceof KubeApiError && err.notFound) {
      return firstInstall
        ? skip(name, `first install: ${where} does not exist yet, so its ${secret.key} was not compared with baseUrl`)
        : fail(
            name,
            `${where} not found: em-runtime reads its ${secret.key} from it; restore it from the backup taken with the snapshot`,
          );
    }
    return fail(name, (err as Error).message);
  }
  const encoded = object.data?.[secret.key];
  if (encoded === undefined) {
    return fail(
      name,
      `${where} has no key ${secret.key} (keys: ${Object.keys(object.data ?? {}).join(", ") || "none"}): add it, ` +
        `the application's address (${normaliseBaseUrl(secret.baseUrl) ?? secret.baseUrl})`,
    );
  }
  const inSecret = normaliseBaseUrl(Buffer.from(encoded, "base64").toString("utf8"));
  const configured = normaliseBaseUrl(secret.baseUrl);
  if (configured === undefined) return fail(name, `baseUrl is not an http(s) URL: set it to the application's address`);
  if (inSecret === undefined) {
    // Not a URL: it is not quoted, in case the key holds something other than an address.
    return fail(name, `${secret.key} in ${where} is not an http(s) URL: set it to ${configured}`);
  }
  if (inSecret !== configured) {
    return fail(
      name,
      `${secret.key} in ${where} is ${inSecret}, baseUrl is ${configured}: the hostname and scheme must match the ` +
        `Gateway and DNS; correct whichever is wrong (the Secret's ${secret.key}, or \`pulumi config set baseUrl\`)`,
    );
  }
  return pass(name, `${secret.key} in ${where} is baseUrl (${configured})`);
}
