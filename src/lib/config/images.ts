/** imageTags and imageRepositories: what the release pins and what preflight looks up in the registry. */
import { tagProblem } from "../release/image-tags";
import { repositoriesFromValues, resolveFrom } from "./chart-files";
import type { Profile } from "../profiles";
import type { ParsedKeys } from "./keys";
import type { Reader } from "./reader";
import type { ValidationContext } from "./schema";

export interface ValidatedImages {
  readonly tags: Record<string, string>;
  readonly repositories: Record<string, string>;
}

export function validateImages(
  r: Reader,
  keys: ParsedKeys,
  ctx: ValidationContext,
  profile: Profile,
  isProtected: boolean,
  valuesFiles: readonly string[],
): ValidatedImages {
  const tags = keys.imageTags;
  const required = profile.requiredImages;
  if (tags === undefined) {
    // The chart version pins every image when the profile requires none: no tags is the usual case.
    if (required.length > 0) {
      r.problem(
        "imageTags",
        `is required: pin ${required.join(", ")}, e.g. \`pulumi config set --path 'imageTags.api' v1.2.3\``,
      );
    }
    return { tags: {}, repositories: {} };
  }
  for (const component of required) {
    if (!(component in tags)) {
      r.problem(
        `imageTags.${component}`,
        `is missing; pin it with \`pulumi config set --path 'imageTags.${component}' v1.2.3\``,
      );
    }
  }
  for (const [component, tag] of Object.entries(tags)) {
    if (!profile.otherImagesPinnable && !profile.pinnableImages.includes(component)) {
      r.problem(
        `imageTags.${component}`,
        `${profile.application} pins no image '${component}'; it may override ${profile.pinnableImages.join(", ")} ` +
          `(or none: the chart version pins them): \`pulumi config rm --path 'imageTags.${component}'\``,
      );
      continue;
    }
    const problem = tagProblem(tag, { protectedStack: isProtected });
    if (problem !== undefined) r.problem(`imageTags.${component}`, `the tag ${problem}`);
  }
  return { tags, repositories: validateRepositories(r, keys, ctx, Object.keys(tags), valuesFiles) };
}

/** Each pinned component's repository: configured, else `image.<component>.repository` from the values files. */
function validateRepositories(
  r: Reader,
  keys: ParsedKeys,
  ctx: ValidationContext,
  components: readonly string[],
  valuesFiles: readonly string[],
): Record<string, string> {
  const configured = keys.imageRepositories ?? {};
  const fromValues = repositoriesFromValues(
    valuesFiles.map((f) => resolveFrom(ctx.projectDir, f)),
    components,
  );
  const repositories: Record<string, string> = {};
  for (const component of components) {
    const repository = configured[component] ?? fromValues[component];
    if (repository === undefined) {
      r.problem(
        `imageRepositories.${component}`,
        `is unknown: set it (e.g. us-docker.pkg.dev/acme/alexandria/${component}) ` +
          `or put image.${component}.repository in a values file, so preflight can check the tag exists`,
      );
    } else if (/[:@]/.test(repository.split("/").slice(1).join("/"))) {
      r.problem(
        `imageRepositories.${component}`,
        `'${repository}' must not carry a tag or digest; the tag comes from imageTags`,
      );
    } else {
      repositories[component] = repository;
    }
  }
  return repositories;
}
