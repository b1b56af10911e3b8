/** Timing a command and sampling the memory of its process tree, for the benchmarks. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const SAMPLE_MS = 20;
/** Linux's USER_HZ, the unit of the CPU times in /proc/PID/stat (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) used by this process's finished children and their descendants: what a command
 * itself cost, whatever else the machine was doing (its database server's backends are not among them).
 */
function finishedChildrenCpuSeconds(): number {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields[0] is field 3, state
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS_PER_SECOND; // cutime, cstime
}

/** Sum of VmRSS over a process and all its descendants. */
function treeRssBytes(root: number): number {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (match !== null) total += Number(match[1]) * 1024;
    } catch {
      // exited meanwhile
    }
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

export interface Timed {
  readonly seconds: number;
  readonly peakRssBytes: number;
  /** CPU seconds of the command and its descendants. */
  readonly cpuSeconds: number;
  /** What the command printed, when captureStdout was asked for. */
  readonly stdout?: string;
}

export interface TimedOptions {
  /** Send stdout to this file, as a shell's `> FILE` would. */
  readonly stdoutFile?: string;
  readonly captureStdout?: boolean;
}

/** Runs a command to completion, timing it and sampling its process tree's RSS. */
export function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  options: TimedOptions = {},
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const out = options.stdoutFile === undefined ? undefined : fs.openSync(options.stdoutFile, "w", 0o600);
    const stdout = out ?? (options.captureStdout ? "pipe" : "ignore");
    const cpuBefore = finishedChildrenCpuSeconds();
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ["ignore", stdout, "pipe"] });
    if (out !== undefined) fs.closeSync(out);
    let printed = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (printed += c));
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (c: string) => (stderr += c));
    let peak = 0;
    const sampler = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, treeRssBytes(child.pid));
    }, SAMPLE_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      const cpuSeconds = finishedChildrenCpuSeconds() - cpuBefore;
      if (code !== 0) reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr}`));
      else resolve({ seconds, peakRssBytes: peak, cpuSeconds, ...(options.captureStdout ? { stdout: printed } : {}) });
    });
  });
}

export const baseEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8" };

export function fresh(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  return dir;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export const mib = (bytes: number): string => (bytes / 1048576).toFixed(1);
