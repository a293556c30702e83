// Type-aware lint for server, tests, scripts and benchmarks; warnings fail (npm run lint uses --max-warnings 0).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  { ignores: ["node_modules/", "var/", "dist/", "coverage/", "bench/tmp/", "server/dashboard/static/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            {
              from: "package",
              package: "node:test",
              name: ["test", "it", "describe", "suite", "before", "after"],
            },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-properties": [
        "error",
        {
          object: "process",
          property: "env",
          message: "Only server/main.ts reads the environment; pass config down.",
        },
      ],
    },
  },
  {
    // the queue boundary: bull (and its private modules) only behind server/queue/
    files: ["server/**/*.ts"],
    ignores: ["server/queue/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [
            { name: "bull", message: "bull stays behind server/queue/: use its EventQueue interface." },
          ],
          patterns: [{ group: ["bull/*"], message: "bull stays behind server/queue/." }],
        },
      ],
    },
  },
  {
    files: ["server/main.ts", "scripts/**", "bench/**", "test/**"],
    rules: { "no-restricted-properties": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  prettier,
);
