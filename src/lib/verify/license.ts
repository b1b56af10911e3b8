import { CheckResult, fail, pass } from "../check";
import { endpointUrl, fetchWithRetries, RetriesExhausted, RetryPolicy } from "../http/fetch";

export interface LicenseExpectations {
  /** --expect-tier: compared case-insensitively. */
  readonly tier: string;
  /** --max-seats: checked in addition to any seat limit the license itself states. */
  readonly maxSeats?: number;
  /** Warn (without failing) when the license expires within this many days. */
  readonly warnDays: number;
  readonly now: Date;
}

/** Field names under which the license states its seat limit; the first present wins. */
const SEAT_LIMIT_FIELDS = ["max_seats", "licensed_seats", "seat_limit", "seats"] as const;

const DAY_MS = 24 * 60 * 60 * 1000;

/** GET /license and judge it; see assessLicense. */
export async function checkLicense(
  baseUrl: string,
  expect: LicenseExpectations,
  retry: RetryPolicy,
): Promise<CheckResult> {
  let body: unknown;
  try {
    const res = await fetchWithRetries(endpointUrl(baseUrl, "/license"), { redirect: "manual" }, retry);
    const text = await res.text();
    if (res.status !== 200) return fail("license", `GET /license answered ${res.status}`);
    body = JSON.parse(text);
  } catch (err) {
    if (err instanceof RetriesExhausted) return fail("license", `GET /license got no answer: ${err.message}`);
    if (err instanceof SyntaxError) return fail("license", "GET /license did not return JSON");
    throw err;
  }
  return assessLicense(body, expect);
}

/** The license has the expected tier, a sane seat count, and an expiry in the future (warned when close). */
export function assessLicense(body: unknown, expect: LicenseExpectations): CheckResult {
  if (typeof body !== "object" || body === null) return fail("license", "GET /license did not return a JSON object");
  const license = body as Record<string, unknown>;
  const problems: string[] = [];

  const tier = license.tier;
  if (typeof tier !== "string" || tier.toLowerCase() !== expect.tier.toLowerCase()) {
    problems.push(
      `tier is ${JSON.stringify(tier ?? null)}, expected "${expect.tier}" (wrong values-<tier>.yaml or license?)`,
    );
  }

  const seats = license.current_seats;
  const limitField = SEAT_LIMIT_FIELDS.find((f) => license[f] !== undefined && license[f] !== null);
  const licensedLimit = limitField === undefined ? undefined : license[limitField];
  let seatText = "";
  if (typeof seats !== "number" || !Number.isInteger(seats) || seats < 0) {
    problems.push(`current_seats is ${JSON.stringify(seats ?? null)}, expected a non-negative integer`);
  } else {
    seatText = `${seats} seats`;
    if (licensedLimit !== undefined) {
      if (typeof licensedLimit !== "number" || !Number.isInteger(licensedLimit) || licensedLimit < 0) {
        problems.push(`${limitField} is ${JSON.stringify(licensedLimit)}, expected a non-negative integer`);
      } else {
        seatText += ` of ${licensedLimit}`;
        if (seats > licensedLimit)
          problems.push(`current_seats ${seats} is above the licensed ${limitField} ${licensedLimit}`);
      }
    }
    if (expect.maxSeats !== undefined && seats > expect.maxSeats) {
      problems.push(`current_seats ${seats} is above --max-seats ${expect.maxSeats}`);
    }
  }

  let warning: string | undefined;
  let expiryText = "";
  const expiresAt = license.expires_at;
  const expires = typeof expiresAt === "string" ? new Date(expiresAt) : undefined;
  if (expires === undefined || Number.isNaN(expires.getTime())) {
    problems.push(`expires_at is ${JSON.stringify(expiresAt ?? null)}, expected a date`);
  } else if (expires.getTime() <= expect.now.getTime()) {
    problems.push(`the license expired at ${expires.toISOString()}`);
  } else {
    const daysLeft = Math.floor((expires.getTime() - expect.now.getTime()) / DAY_MS);
    expiryText = `expires ${expires.toISOString()} (${daysLeft} days)`;
    if (daysLeft < expect.warnDays)
      warning = `the license expires in ${daysLeft} days (${expires.toISOString()}); renew it`;
  }

  if (problems.length > 0) return fail("license", problems.join("; "));
  return pass("license", `tier ${String(tier)}, ${seatText}, ${expiryText}`, warning);
}
