/**
 * A log line reduced to its shape, for quoting where it is kept: `runbook verify`'s output ends up in the
 * Pulumi state in plain text, and an application's log line can hold anything (a DSN, a token, a customer's
 * data). Every value is masked as `***`: quoted strings (a JSON key is kept), `key=value` values, URLs, the
 * word after password/token/secret/..., and every token that is not a plain word (digits, dots, slashes...).
 * Plain words stay, so the line still says what kind of failure it was: `ERROR db connect failed password=***`.
 */
export function logLineShape(line: string): string {
  const prefix = KUBECTL_PREFIX.exec(line)?.[0] ?? "";
  const shape = line
    .slice(prefix.length)
    .replace(QUOTED, (_all, quote: string, content: string, colon: string | undefined) =>
      colon !== undefined && JSON_KEY.test(content)
        ? `${quote}${content}${quote}${colon}`
        : `${quote}***${quote}${colon ?? ""}`,
    )
    .replace(KEY_VALUE, "$1=***")
    .replace(URL, "***")
    .replace(AFTER_SECRET_WORD, "***")
    .replace(RUN, (run) => (PLAIN_WORD.test(run) ? run : "***"))
    .replace(REPEATED_MASK, "***");
  return prefix + shape;
}

/** `[pod/NAME/CONTAINER] ` that kubectl --prefix puts before each line: the runbook's words, not the application's. */
const KUBECTL_PREFIX = /^\[pod\/[^\]\s]+\]\s*/;
/** A double- or single-quoted string, and the colon after it when it is a JSON key; not the apostrophe in "can't". */
const QUOTED = /(?<!\w)(["'])((?:\\.|(?!\1)[^\\])*)\1(\s*:)?/g;
const JSON_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,40}$/;
const KEY_VALUE = /\b([A-Za-z_][\w.-]*)=(?:"[^"]*"|'[^']*'|\S+)/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;
const SECRET_WORD = String.raw`(?:password|passwd|pwd|secret|token|apikey|api[_-]?key|auth|authorization|bearer|credentials?)`;
/** The token after a secret word (`password hunter`, `Authorization: Bearer abc`), unless it is one itself. */
const AFTER_SECRET_WORD = new RegExp(
  String.raw`(?<=\b${SECRET_WORD}(?:\s*[:=]?\s+|\s*[:=]\s*))(?!\*\*\*)(?!${SECRET_WORD}\b)[^\s,;"']+`,
  "gi",
);
/** A run of characters between separators: a word, a number, a token, a path... */
const RUN = /[^\s"'=:,;{}[\]()<>|]+/g;
/**
 * A word as people write it: lower case, Capitalised or ALL CAPS, and not long. Anything else (mixed case,
 * long runs of letters) is as likely to be a key or an id as a word.
 */
const PLAIN_WORD = /^(?=.{1,20}$)(?:[A-Za-z][a-z]*|[A-Z]+)$/;
const REPEATED_MASK = /\*\*\*(?:[\s.,;:/@-]*\*\*\*)+/g;
