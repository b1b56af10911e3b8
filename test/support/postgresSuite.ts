/**
 * The hooks of a mocha suite that runs the CLI against the test PostgreSQL: before its first test the server
 * must answer and the CLI be built; after its last, the temporary directories and every database the suite
 * made (with those restores made from their names) are removed. Call it first in the `describe`, so that its
 * `after` runs before the suite's own (which may drop a role those databases belong to).
 */
import {
  ADMIN,
  Credentials,
  buildCli,
  createDatabase,
  dropDatabase,
  removeTempDirs,
  requirePostgres,
  seedDatabase,
} from "./postgres";

export interface SuiteDatabases {
  /** A fresh, empty database owned by `owner`; dropped after the suite. */
  created(prefix: string, owner?: string): Promise<string>;
  /** A fresh database owned by `owner` and seeded as `credentials`; dropped after the suite. */
  seeded(prefix: string, owner?: string, credentials?: Credentials): Promise<string>;
  /** Drops these databases, and what restores made from their names, after the suite. */
  dropAfter(...names: string[]): void;
}

export function postgresSuite(): SuiteDatabases {
  const made: string[] = [];
  before(async () => {
    await requirePostgres();
    await buildCli();
  });
  after(async () => {
    removeTempDirs();
    for (const db of made) await dropDatabase(db);
  });
  return {
    async created(prefix: string, owner: string = ADMIN.user): Promise<string> {
      const db = await createDatabase(prefix, owner);
      made.push(db);
      return db;
    },
    async seeded(prefix: string, owner: string = ADMIN.user, credentials: Credentials = ADMIN): Promise<string> {
      const db = await createDatabase(prefix, owner);
      made.push(db);
      await seedDatabase(db, credentials);
      return db;
    },
    dropAfter(...names: string[]): void {
      made.push(...names);
    },
  };
}
