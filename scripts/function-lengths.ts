/**
 * `npx tsx scripts/function-lengths.ts [dir…]`: the longest functions and the largest files under
 * the given folders (default `lambdas lib`), to keep issue 11's rule visible: no function over
 * about 60 lines, no file in `lambdas/` over about 400, unless a comment next to it says why.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

interface Span {
  readonly where: string;
  readonly lines: number;
}

function functionsOf(file: string): Span[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out: Span[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
      const name =
        (node as { name?: ts.Node }).name?.getText() ??
        (ts.isVariableDeclaration(node.parent) ? node.parent.name.getText() : '(anonymous)');
      out.push({ where: `${file}:${start} ${name}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ['lambdas', 'lib'];
const all = dirs.flatMap(files);
const fns = all.flatMap(functionsOf).sort((a, b) => b.lines - a.lines);
const sizes = all
  .map((f) => ({ where: f, lines: readFileSync(f, 'utf8').split('\n').length }))
  .sort((a, b) => b.lines - a.lines);
console.log('Longest functions:');
for (const f of fns.slice(0, 12)) console.log(`  ${String(f.lines).padStart(4)}  ${f.where}`);
console.log('Largest files:');
for (const f of sizes.slice(0, 8)) console.log(`  ${String(f.lines).padStart(4)}  ${f.where}`);
