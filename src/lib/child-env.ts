/**
 * Variables every child process inherits from the runbook: how to find programs, whose home and user it is,
 * which locale and time zone, where temporary files go. None carries a connection fact or a secret.
 */
export const INHERITED_ENV_VARS: readonly string[] = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
];

/** TLS trust and proxies: what a child that talks to the network (helm, pulumi) needs to reach it. */
export const NETWORK_ENV_VARS: readonly string[] = [
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
];

/** The locale categories (LC_ALL, LC_CTYPE...) are inherited too. */
const INHERITED_PREFIXES: readonly string[] = ["LC_"];

/** What one kind of child needs beyond INHERITED_ENV_VARS. */
export interface ChildNeeds {
  /** Further variables it inherits from the parent when they are set (e.g. KUBECONFIG). */
  readonly inherit?: readonly string[];
  /** Prefixes of further variables it inherits (e.g. PULUMI_). */
  readonly inheritPrefixes?: readonly string[];
  /** Variables set for it whatever the parent holds (e.g. REDISCLI_AUTH); undefined values are left out. */
  readonly set?: Readonly<Record<string, string | undefined>>;
}

/**
 * The environment a child process gets: the inherited variables above plus what it needs, and nothing else.
 * What the runbook itself was started with (PG_DSN, REGISTRY_PASSWORD, RUNBOOK_REDIS_URL, stray PG* variables
 * that would change a connection, whatever else the operator's shell holds) stays with the runbook, so a
 * child cannot print, log or pass on a secret it was never given.
 */
export function childEnvironment(parentEnv: NodeJS.ProcessEnv, needs: ChildNeeds = {}): NodeJS.ProcessEnv {
  const names = new Set([...INHERITED_ENV_VARS, ...(needs.inherit ?? [])]);
  const prefixes = [...INHERITED_PREFIXES, ...(needs.inheritPrefixes ?? [])];
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(parentEnv)) {
    if (value !== undefined && (names.has(name) || prefixes.some((p) => name.startsWith(p)))) env[name] = value;
  }
  for (const [name, value] of Object.entries(needs.set ?? {})) {
    if (value !== undefined) env[name] = value;
  }
  return env;
}
