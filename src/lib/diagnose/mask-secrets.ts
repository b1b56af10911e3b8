import { redactSecrets } from "../redact";
import { maskUrlPasswords } from "../verify/startup-errors";

/** Words after which (`password=…`, `"token": "…"`, `client_secret: …`) a value is a secret. */
const SECRET_KEY = String.raw`[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|credentials?|private[_-]?key)[\w.-]*`;
/** `key=value`, `key: value`, `"key": "value"`, `'key': 'value'` with a secret-looking key. */
const SECRET_ASSIGNMENT = new RegExp(
  String.raw`(["']?\b${SECRET_KEY}["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s,;}&]+)`,
  "gi",
);
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
/** A JSON Web Token, wherever it appears: three base64url parts, the first a JSON header. */
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

/**
 * A log line or event message with the secrets in it masked, keeping the rest readable for diagnosis (unlike
 * verification's logLineShape, which keeps only the words): values of the release's Secrets, the runbook's
 * own secrets, URL passwords, secret-looking assignments, bearer tokens and JWTs become `***`.
 */
export function maskSecrets(text: string, secretValues: readonly string[], env: NodeJS.ProcessEnv): string {
  let out = text;
  for (const value of secretValues) out = out.split(value).join("***");
  out = redactSecrets(out, env);
  return maskUrlPasswords(out).replace(SECRET_ASSIGNMENT, "$1***").replace(BEARER, "$1 ***").replace(JWT, "***");
}
