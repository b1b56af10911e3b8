/**
 * Hooks the integration tests use to stop the CLI where a real crash could; nothing else sets these variables.
 *
 * RUNBOOK_TEST_CRASH_AFTER=<step>: a restore (or --resume) kills its own process with SIGKILL right after
 * <step> has happened and before the journal records it (the worst moment: the journal is one step behind),
 * as a power cut or the OOM killer would. Steps: see RESTORE_STEPS in src/lib/restore/restore-journal.ts, and
 * for `runbook rollback` (and --resume) ROLLBACK_STEPS in src/lib/rollback/rollback-journal.ts.
 */
export const CRASH_AFTER_ENV = "RUNBOOK_TEST_CRASH_AFTER";

export function crashAfterStep(env: NodeJS.ProcessEnv): ((step: string) => void) | undefined {
  const target = env[CRASH_AFTER_ENV];
  if (target === undefined || target === "") return undefined;
  return (step) => {
    if (step === target) process.kill(process.pid, "SIGKILL");
  };
}
