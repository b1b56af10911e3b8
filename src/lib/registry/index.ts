export { credentialsFromEnv, parseWwwAuthenticate } from "./auth";
export type { AuthChallenge, RegistryCredentials } from "./auth";
export { checkImage, MANIFEST_ACCEPT } from "./client";
export type { ImageCheck, RegistryClientOptions } from "./client";
export { formatImageReference, InvalidImageReference, isLoopbackHost, parseImageReference } from "./reference";
export type { ImageReference } from "./reference";
