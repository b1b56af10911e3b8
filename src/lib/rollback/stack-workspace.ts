import { existsSync } from "node:fs";
import path from "node:path";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

/**
 * The project directory: the current directory when it holds Pulumi.yaml (operators run the runbook from
 * their checkout, which holds their stack files), else the nearest one above this module.
 */
export function projectDir(): string {
  if (existsSync(path.join(process.cwd(), "Pulumi.yaml"))) return process.cwd();
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    dir = path.dirname(dir);
    if (existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
  }
  throw new Error(`cannot find Pulumi.yaml above ${__dirname}; run the runbook from its project checkout`);
}

export async function openStack(stackName: string, workDir = projectDir()): Promise<Stack> {
  return LocalWorkspace.selectStack({ stackName, workDir });
}
