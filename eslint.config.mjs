// Type-aware linting: @pulumi/eslint-plugin needs types to see an Output inside a template literal,
// which would print "Calling [toString] on an Output<T> is not supported" instead of the value.
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bin/**", "test/e2e/toolchain/**", "eslint.config.mjs"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },

  // Layering: components/ (Pulumi wiring) -> src/cli/ (flags and output) -> src/lib/<runbook step>/ ->
  // src/lib/<service client>/. Dependencies point one way, down; the library never knows its CLI.
  {
    files: ["src/lib/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/cli", "**/cli/**"], message: "src/lib must not import the CLI: move the code into src/lib." },
            { group: ["**/components", "**/components/**"], message: "src/lib must not import the Pulumi components." },
          ],
        },
      ],
    },
  },
  {
    files: ["src/lib/{kube,registry,pg,redis,http,helm}/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/cli", "**/cli/**", "**/components", "**/components/**"],
              message: "a service client must not import the CLI or the components.",
            },
            {
              group: [
                "../preflight",
                "../preflight/**",
                "../snapshot",
                "../snapshot/**",
                "../restore",
                "../restore/**",
                "../release",
                "../release/**",
                "../verify",
                "../verify/**",
                "../rollback",
                "../rollback/**",
                "../backup",
                "../backup/**",
                "../diff",
                "../diff/**",
              ],
              message:
                "a service client (kube, registry, pg, redis, http) must not import a runbook step: move what both need into the client.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/cli/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["**/components", "**/components/**"], message: "the CLI must not import the Pulumi components." },
          ],
        },
      ],
    },
  },
);
