import { OperationFailed } from "../errors";
import { checkDatabase } from "../pg/check-database";
import { configValue, PlainConfig } from "./stack-config";

/** The schema version now, by the stack's schemaVersionQuery; undefined when none is configured. */
export async function currentSchemaVersion(
  config: PlainConfig,
  dsn: string | undefined,
): Promise<string | null | undefined> {
  const query = configValue(config, "schemaVersionQuery");
  if (query === undefined) return undefined;
  if (dsn === undefined) {
    throw new OperationFailed("cannot read the schema version: set PG_DSN, or pgDsn/dsnSecret in the stack config");
  }
  const facts = await checkDatabase(dsn, { schemaVersionQuery: query });
  return facts.schemaVersion ?? null;
}
