/**
 * Kubernetes and Helm naming rules, checked before a name reaches the API server. Each function returns what is
 * wrong, as a phrase that completes "'<name>' ...", or undefined when the name is valid.
 */

/** DNS-1123 label: namespaces. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain: Secret names, Helm release names. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Keys of a Secret's data. */
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

export function namespaceNameProblem(name: string): string | undefined {
  return name.length <= 63 && DNS_LABEL.test(name)
    ? undefined
    : "is not a Kubernetes namespace name (lowercase letters, digits and '-'; at most 63)";
}

/** Helm limits release names to 53 characters so that the names it derives stay within 63. */
export function releaseNameProblem(name: string): string | undefined {
  return name.length <= 53 && DNS_SUBDOMAIN.test(name)
    ? undefined
    : "is not a Helm release name (lowercase letters, digits, '-' and '.'; at most 53)";
}

export function isSecretName(name: string): boolean {
  return name.length <= 253 && DNS_SUBDOMAIN.test(name);
}

export function isSecretKey(key: string): boolean {
  return key.length <= 253 && SECRET_KEY.test(key);
}
