// Builds the web app into dist/: hashed bundles plus index.html. The output
// is committed and embedded in the Go binary; it is byte-identical from one
// build to the next, so CI can check that dist/ matches the sources.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename } from 'node:path';

const out = 'dist';
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/assets`, { recursive: true });

const result = await build({
  entryPoints: ['src/main.tsx'],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: 'app-[hash]',
  outdir: `${out}/assets`,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const names = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = names.find((n) => n.endsWith('.js'));
const css = names.find((n) => n.endsWith('.css'));
if (!js || !css) throw new Error(`build produced ${names.join(', ')}`);
const html = readFileSync('src/index.html', 'utf8').replace('{{js}}', js).replace('{{css}}', css);
writeFileSync(`${out}/index.html`, html);
console.log(`built ${out}/index.html, ${js}, ${css}`);
