/**
 * An application's address in one spelling, for comparing two of them: scheme and host lower-cased, the
 * default port dropped (WHATWG URL does both), no user info, query or fragment, no trailing slash.
 * `HTTPS://Em.Example.com:443/` and `https://em.example.com` are the same address. Undefined when `text` is not
 * an absolute http(s) URL.
 */
export function normaliseBaseUrl(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}
