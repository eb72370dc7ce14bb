import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');

describe('the PR diff workflow (docs/BOOTSTRAP.md, step 4)', () => {
  const diff = read('.github/workflows/diff.yml');
  const stepIndex = (name: string) => {
    const at = diff.indexOf(`- name: ${name}`);
    if (at < 0) throw new Error(`no step "${name}" in diff.yml`);
    return at;
  };

  it("synthesizes the pull request's app before it holds any AWS credential", () => {
    const synth = stepIndex('Synth ${{ matrix.stage }}');
    const assume = stepIndex('Assume the read-only diff role (OIDC)');
    expect(synth).toBeLessThan(assume);
    // After the role is assumed, only the CLI runs, on the synthesized assembly.
    const afterAssume = diff.slice(assume);
    expect(afterAssume).not.toMatch(/cdk synth|npm (ci|run|test)|tsx /);
    expect(afterAssume).toMatch(/cdk diff --app cdk\.out .*--method template/);
  });

  it('documents a diff role that can read the stack template and nothing else', () => {
    const bootstrap = read('docs/BOOTSTRAP.md');
    const section = bootstrap.slice(
      bootstrap.indexOf('## 4. Read-only diff role'),
      bootstrap.indexOf('## 5. GitHub configuration'),
    );
    const policies = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map(
      (m) => JSON.parse(m[1]) as { Statement: { Action: string | string[] }[] },
    );
    const permissions = policies[policies.length - 1];
    expect(permissions.Statement.flatMap((s) => [s.Action].flat()).sort()).toEqual([
      'cloudformation:DescribeStacks',
      'cloudformation:GetTemplate',
    ]);
  });
});
