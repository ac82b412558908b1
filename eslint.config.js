// ESLint: typescript-eslint's recommended rules, type-aware for the TypeScript
// in tsconfig.json; formatting is Prettier's business (eslint-config-prettier).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'build-asan/', 'prebuilds/', 'firmware/build/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Errors that wrap a failure carry its message in their own one-line text.
      'preserve-caught-error': 'off',
      // Backends implement an async interface; the in-process one has nothing to await.
      '@typescript-eslint/require-await': 'off',
      // Intrinsic getters are captured once and called with Reflect.apply; boards' start functions are passed as values.
      '@typescript-eslint/unbound-method': 'off',
      // `const { dropped: _, ...rest } = x` names what is left out.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Tests feed hostile values on purpose and read children's JSON output.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
    },
  },
  // Plain JavaScript and the declaration files outside tsconfig.json: syntax rules only.
  { files: ['**/*.js', '**/*.mjs', 'firmware/**/*.d.mts'], ...tseslint.configs.disableTypeChecked },
  prettier,
);
