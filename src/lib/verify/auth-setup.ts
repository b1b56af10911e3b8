import { CheckResult, fail, pass } from "../check";
import { endpointUrl, fetchWithRetries, RetriesExhausted, RetryPolicy } from "../http/fetch";

/**
 * `/auth/setup` offers the "create the first admin" screen, so it answers 200 only while no admin exists.
 * On a first install that is expected; after an upgrade it means the admin (the database) was lost.
 */
export async function checkAuthSetup(baseUrl: string, firstInstall: boolean, retry: RetryPolicy): Promise<CheckResult> {
  const name = "auth-setup";
  let status: number;
  try {
    const res = await fetchWithRetries(endpointUrl(baseUrl, "/auth/setup"), { redirect: "manual" }, retry);
    await res.body?.cancel();
    status = res.status;
  } catch (err) {
    if (err instanceof RetriesExhausted) return fail(name, `GET /auth/setup got no answer: ${err.message}`);
    throw err;
  }
  if (status >= 500) return fail(name, `GET /auth/setup answered ${status}: the application is failing`);
  if (firstInstall) {
    return status === 200
      ? pass(name, "GET /auth/setup answered 200: no admin yet, as expected on a first install")
      : fail(
          name,
          `GET /auth/setup answered ${status} on a first install: an admin already exists, so the database was not empty ` +
            "(drop --first-install if this was an upgrade)",
        );
  }
  return status === 200
    ? fail(
        name,
        "GET /auth/setup answered 200 after an upgrade: the application no longer knows its admin, so the database was " +
          "reset or is the wrong one; restore the pre-upgrade snapshot (runbook restore) or roll back",
      )
    : pass(name, `GET /auth/setup answered ${status}: an admin exists, as expected after an upgrade`);
}
