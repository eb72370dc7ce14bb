// @ts-check
/**
 * ESLint flat config: typescript-eslint in type-checked mode (STYLE.md rule 36).
 *
 * Formatting belongs to Prettier (`npm run format:ci`). `eslint-config-prettier` is not a
 * dependency, so this file only uses configs without layout rules (`@eslint/js` recommended and
 * typescript-eslint `recommendedTypeChecked`), and turns off the one recommended rule that can
 * disagree with Prettier's output. Nothing here formats code.
 */
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Globals of the plain JavaScript config files (no `globals` package is installed). */
const nodeGlobals = {
  console: 'readonly',
  process: 'readonly',
};
const commonJsGlobals = {
  ...nodeGlobals,
  module: 'writable',
  exports: 'writable',
  require: 'readonly',
  __dirname: 'readonly',
  __filename: 'readonly',
};

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'cdk.out/',
    'cdk.out.*/',
    'coverage/',
    '.local/',
    '**/*.d.ts',
  ]),

  {
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
      reportUnusedInlineConfigs: 'error',
    },
  },

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,

  {
    languageOptions: {
      parserOptions: {
        // Every .ts file is type-checked against the nearest tsconfig.json (the root one).
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },

  {
    files: ['**/*.ts'],
    rules: {
      // A promise nobody awaits in a Lambda is lost work: the runtime freezes after the handler
      // returns. `void p` stays allowed only outside lambdas/ (see below).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true, ignoreIIFE: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      // `return await` inside try/catch, so the catch (and `finally`) sees the rejection.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      eqeqeq: ['error', 'smart'],
      'no-throw-literal': 'off',
      '@typescript-eslint/only-throw-error': 'error',
    },
  },

  {
    // Deployed code: every log line goes through the Powertools logger (structured, and the only
    // place that is reviewed for leaking keys), and fire-and-forget is never acceptable.
    files: ['lambdas/**/*.ts'],
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-floating-promises': [
        'error',
        { ignoreVoid: false, ignoreIIFE: false },
      ],
    },
  },

  {
    files: ['test/**/*.ts'],
    rules: {
      // `expect(client.send).toHaveBeenCalled()` and jest mocks are unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
      // Fakes implement async interfaces with synchronous bodies (`async apiKey() { return 'k'; }`).
      '@typescript-eslint/require-await': 'off',
      // Tests walk synthesized CloudFormation JSON (`Template.toJSON()` is `Record<string, any>`)
      // and use jest's asymmetric matchers (`expect.any()` is typed `any`): typing every template
      // path would add noise, not safety. Production code keeps all of these rules.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  {
    // Plain JavaScript config files (eslint.config.mjs, jest.config.js): not part of the
    // TypeScript program, so lint them without type information.
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: nodeGlobals },
  },
  {
    files: ['**/*.{js,cjs}'],
    languageOptions: { sourceType: 'commonjs', globals: commonJsGlobals },
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
    },
  },

  {
    // Layout is Prettier's job. This recommended rule can report code that Prettier formatted
    // (the reason eslint-config-prettier turns it off too).
    rules: {
      'no-unexpected-multiline': 'off',
    },
  },
);
