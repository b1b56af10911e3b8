/**
 * The release alexandria-ee in namespace prod, as a fake Kubernetes API server serves it, and the argv of the
 * commands that read it: one fixture for every suite that runs `preflight` or `verify` against a cluster.
 */
import {
  alexandriaDeployments,
  helmReleaseSecrets,
  PodSketch,
  podList,
  secretWith,
} from "../fixtures/alexandria-api/cluster-objects";
import { FakeKubeApi, startFakeKubeApi } from "../fixtures/alexandria-api/fake-kube-api";
import { CliOptions, CliRun, runCli } from "./postgres";

/** The API paths the runbook reads in namespace prod. */
export const PROD = {
  secrets: "/api/v1/namespaces/prod/secrets",
  dsnSecret: "/api/v1/namespaces/prod/secrets/alexandria-db",
  pods: "/api/v1/namespaces/prod/pods",
  deployments: "/apis/apps/v1/namespaces/prod/deployments",
  logOf: (pod: string) => `/api/v1/namespaces/prod/pods/${pod}/log`,
};

/** The flags that name the release alexandria-ee in namespace prod. */
export const PROD_RELEASE = ["--namespace", "prod", "--release", "alexandria-ee"];

export interface ProdRelease {
  /** Helm's release records of alexandria-ee. */
  revisions: { revision: number; status: string }[];
  /** The pods of the release. */
  pods: PodSketch[];
  /** The image of the running api Deployment; no Deployments are served without it. */
  runningApi?: string;
  /** The value of key dsn in Secret alexandria-db; the Secret is not served without it. */
  dsn?: string;
}

/** A fake API server serving the release; `contexts` are the kubeconfig contexts it accepts. */
export function startProdCluster(release: ProdRelease, contexts?: readonly string[]): Promise<FakeKubeApi> {
  return startFakeKubeApi(
    {
      [PROD.secrets]: helmReleaseSecrets("alexandria-ee", release.revisions),
      [PROD.pods]: podList(release.pods),
      ...(release.runningApi === undefined
        ? {}
        : { [PROD.deployments]: alexandriaDeployments("alexandria-ee", release.runningApi) }),
      ...(release.dsn === undefined ? {} : { [PROD.dsnSecret]: secretWith("alexandria-db", { dsn: release.dsn }) }),
    },
    contexts,
  );
}

/** `runbook preflight` of the release alexandria-ee in namespace prod, to the api image `apiImage`. */
export function prodPreflightArgs(apiImage: string, ...extra: string[]): string[] {
  return ["preflight", ...PROD_RELEASE, "--image", `api=${apiImage}`, ...extra];
}

/** `runbook verify` of the application at `baseUrl`, expecting the enterprise tier. */
export function runVerify(baseUrl: string, extra: string[] = [], options?: CliOptions): Promise<CliRun> {
  return runCli(["verify", "--base-url", baseUrl, "--expect-tier", "enterprise", ...extra], options);
}
