/** Registry credentials and the `WWW-Authenticate` challenges that say how to use them. */

export interface RegistryCredentials {
  /** REGISTRY_USERNAME: e.g. `oauth2accesstoken` for Artifact Registry, the GitHub user for GHCR. */
  readonly username?: string;
  /** REGISTRY_PASSWORD: an access token or PAT; a secret. */
  readonly password?: string;
  /** REGISTRY_TOKEN: a ready bearer token, sent as is; a secret. */
  readonly token?: string;
}

export interface AuthChallenge {
  /** Lower-cased: "basic", "bearer". */
  readonly scheme: string;
  /** Parameter names lower-cased: realm, service, scope, error. */
  readonly params: Readonly<Record<string, string>>;
}

/** Credentials reach the registry client only through the environment, never argv. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): RegistryCredentials {
  const pick = (name: string): string | undefined =>
    env[name] !== undefined && env[name] !== "" ? env[name] : undefined;
  const username = pick("REGISTRY_USERNAME");
  const password = pick("REGISTRY_PASSWORD");
  const token = pick("REGISTRY_TOKEN");
  return {
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
    ...(token === undefined ? {} : { token }),
  };
}

export function hasBasicCredentials(
  c: RegistryCredentials,
): c is RegistryCredentials & { username: string; password: string } {
  return c.username !== undefined && c.password !== undefined;
}

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, "utf8").toString("base64")}`;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `name=value` or `name="quoted value"` parameters, e.g.
 * `Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:org/api:pull"`.
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < header.length && chars.test(header[i]!)) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < header.length && /[^\s,=]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const readQuoted = (): string => {
    let out = "";
    i++; // opening quote
    while (i < header.length && header[i] !== '"') {
      if (header[i] === "\\" && i + 1 < header.length) i++;
      out += header[i];
      i++;
    }
    i++; // closing quote
    return out;
  };

  while (i < header.length) {
    skip(/[\s,]/);
    const word = readToken();
    if (word === "") break;
    skip(/\s/);
    const current = challenges[challenges.length - 1];
    if (header[i] === "=" && current !== undefined) {
      i++;
      skip(/\s/);
      current.params[word.toLowerCase()] = header[i] === '"' ? readQuoted() : readToken();
    } else {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
    }
  }
  return challenges;
}
