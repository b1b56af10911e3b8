import type { Readable } from "node:stream";

/** What the snapshot store needs of where it keeps files: a bucket or a directory, addressed by relative names. */
export interface StoreObjects {
  /** How an object is named to the operator: `s3://bucket/prefix/NAME.manifest.json` or a path. */
  url(relative: string): string;
  putFile(relative: string, file: string, signal?: AbortSignal): Promise<void>;
  /** The object's bytes; undefined when there is none. */
  get(relative: string): Promise<Readable | undefined>;
  /** Names directly under the store's root (a snapshot's directory-format files are one level down). */
  listTopLevel(): Promise<string[]>;
  destroy(): void;
}
