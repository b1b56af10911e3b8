/**
 * Pushes image tags (a config blob and a layer-less manifest each, no image build) to a loopback registry:
 *   node -r ts-node/register test/e2e/sandbox/push-images.ts 127.0.0.1:15000 alexandria/api:v1.4.0 ...
 * Prints one "<repository>:<tag> <digest>" line per tag. Used by test/e2e/sandbox/up.sh.
 */
import { pushTag } from "../../support/registry";

async function main(argv: string[]): Promise<void> {
  const [registry, ...refs] = argv;
  if (registry === undefined || refs.length === 0) throw new Error("usage: push-images.ts HOST:PORT REPOSITORY:TAG...");
  for (const ref of refs) {
    const colon = ref.lastIndexOf(":");
    if (colon <= 0 || colon === ref.length - 1) throw new Error(`'${ref}' is not REPOSITORY:TAG`);
    const digest = await pushTag({ registry, repository: ref.slice(0, colon), tag: ref.slice(colon + 1) });
    process.stdout.write(`${ref} ${digest}\n`);
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  process.stderr.write(`push-images: ${err.message}\n`);
  process.exit(1);
});
