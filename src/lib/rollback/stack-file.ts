import fs from "node:fs/promises";
import path from "node:path";
import * as YAML from "yaml";
import { OperationFailed } from "../errors";
import { ConfigChange, parseStructured } from "./full-target";

/** The stack's settings file, `Pulumi.<stack>.yaml` in the project directory. */
export function stackFilePath(workDir: string, stackName: string): string {
  return path.join(workDir, `Pulumi.${stackName}.yaml`);
}

/** The file's text, to put back byte for byte (a preview that must change nothing, an abort). */
export async function readStackFile(file: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    throw new OperationFailed(`cannot read the stack file ${file}: ${(err as Error).message}`);
  }
}

export async function writeStackFile(file: string, text: string): Promise<void> {
  const temp = `${file}.runbook-${process.pid}`;
  await fs.writeFile(temp, text, "utf8");
  await fs.rename(temp, file);
}

/**
 * Writes config changes into the stack file as `pulumi config set` would, keeping its comments, its secure
 * values and every other key; object values (imageTags, siteValues...) are written as YAML objects.
 */
export async function applyConfigChanges(file: string, changes: readonly ConfigChange[]): Promise<void> {
  const doc = YAML.parseDocument(await readStackFile(file));
  if (!doc.has("config")) doc.set("config", doc.createNode({}));
  for (const change of changes) {
    if (change.to === undefined) doc.deleteIn(["config", change.key]);
    else doc.setIn(["config", change.key], doc.createNode(parseStructured(change.to) ?? change.to));
  }
  await writeStackFile(file, doc.toString());
}

/** Runs `work` with the changes in the stack file, and puts the file back as it was however `work` ends. */
export async function withConfigChanges<T>(
  file: string,
  changes: readonly ConfigChange[],
  work: () => Promise<T>,
): Promise<T> {
  const before = await readStackFile(file);
  try {
    await applyConfigChanges(file, changes);
    return await work();
  } finally {
    await writeStackFile(file, before);
  }
}
