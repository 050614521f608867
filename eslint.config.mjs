import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Module boundaries: a role (src/<role>/) talks to the others through libs/contracts and the
 * transport, never by importing their files; src/common/ serves every role and imports none.
 */
const ROLES = ['gateway', 'agent', 'ams', 'node'];
const boundary = (files, forbidden, why) => ({
  files,
  ignores: ['**/*.spec.ts'],
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((role) => ({ group: [`**/${role}/**`, `**/${role}`], message: why(role) })) }],
  },
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  ...ROLES.map((role) =>
    boundary([`src/${role}/**/*.ts`], ROLES.filter((r) => r !== role), (other) => `the ${role} role may not import the ${other} role's files: put what they share in libs/contracts`),
  ),
  boundary(['src/common/**/*.ts', 'libs/**/*.ts'], ROLES, (role) => `shared code may not import the ${role} role: the role registers with it instead`),
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
