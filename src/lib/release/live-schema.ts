/**
 * The live schema (migration) version, read at program time so that preview shows it beside the live
 * release. The DSN is the configured one, else the one in the application's DSN Secret; it stays in memory.
 */
import { KubeTarget, readSecretKey } from "../kube";
import { checkDatabase } from "../pg/check-database";

export interface LiveSchemaSource {
  readonly query: string;
  /** The DSN from the stack's config (pgDsn), when set. */
  readonly dsn?: string;
  /** Else the Secret holding it, in the release's namespace. */
  readonly dsnSecret?: { readonly name: string; readonly key: string };
  readonly target: KubeTarget;
}

export async function readLiveSchemaVersion(source: LiveSchemaSource, env: NodeJS.ProcessEnv): Promise<string | null> {
  const dsn =
    source.dsn ??
    (source.dsnSecret === undefined
      ? undefined
      : (await readSecretKey(source.dsnSecret.name, source.dsnSecret.key, source.target, env)).trim());
  if (dsn === undefined) return null;
  const facts = await checkDatabase(dsn, { schemaVersionQuery: source.query, connectTimeoutMs: 5_000 });
  return facts.schemaVersion ?? null;
}
