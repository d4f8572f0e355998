#!/usr/bin/env node
// Static checks of infra/docker/Dockerfile where no Docker engine (so no `docker build --check`)
// and no hadolint are available: parses the instructions the way BuildKit does (comments, parser
// directives, line continuations, JSON exec form) and checks what this repo relies on.
// Usage: node infra/docker/check-dockerfile.mjs [path/to/Dockerfile]   (exit 1 on any problem)
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const file = resolve(process.argv[2] ?? join(here, 'Dockerfile'));
const text = readFileSync(file, 'utf8');
const problems = [];
const fail = (line, msg) => problems.push(`${file}:${line}: ${msg}`);

const KNOWN = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
  'MAINTAINER',
]);

// 1. Logical instructions: drop comments, join lines ending in a backslash.
const lines = text.split('\n');
const instructions = [];
let buf = null;
let start = 0;
let directivesDone = false;
for (let i = 0; i < lines.length; i++) {
  const raw = lines[i];
  const trimmed = raw.trim();
  if (!directivesDone && /^#\s*(syntax|escape|check)\s*=/.test(trimmed)) continue;
  if (trimmed.startsWith('#') || (trimmed === '' && buf === null)) {
    if (trimmed !== '') directivesDone = true;
    continue;
  }
  directivesDone = true;
  if (trimmed === '') continue; // blank line inside a continuation is allowed
  if (buf === null) {
    buf = '';
    start = i + 1;
  }
  if (/\\$/.test(raw.trimEnd())) {
    buf += raw.trimEnd().slice(0, -1) + ' ';
    continue;
  }
  buf += raw;
  instructions.push({ line: start, text: buf.trim() });
  buf = null;
}
if (buf !== null) fail(start, 'file ends inside a line continuation');

// 2. Per-instruction checks.
const stages = [];
const globalArgs = new Set();
for (const ins of instructions) {
  const m = /^([A-Za-z]+)\s*(.*)$/s.exec(ins.text);
  const kw = m[1].toUpperCase();
  const rest = m[2];
  if (!KNOWN.has(kw)) {
    fail(ins.line, `unknown instruction ${m[1]}`);
    continue;
  }
  if (stages.length === 0 && kw !== 'FROM' && kw !== 'ARG') fail(ins.line, `${kw} before the first FROM`);
  if (kw === 'ARG' && stages.length === 0) globalArgs.add(rest.split('=')[0].trim());
  if (kw === 'FROM') {
    const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(rest);
    if (!f) {
      fail(ins.line, `cannot parse FROM ${rest}`);
      continue;
    }
    const image = f[1];
    for (const v of image.matchAll(/\$\{?(\w+)/g))
      if (!globalArgs.has(v[1]))
        fail(ins.line, `FROM uses \${${v[1]}} which is not an ARG declared before the first FROM`);
    const known = stages.map((s) => s.name);
    if (
      !image.includes('$') &&
      !image.includes(':') &&
      !image.includes('/') &&
      !known.includes(image) &&
      image !== 'scratch'
    )
      fail(ins.line, `FROM ${image}: neither an earlier stage nor a tagged image`);
    if (f[2] && known.includes(f[2])) fail(ins.line, `stage name ${f[2]} used twice`);
    stages.push({ name: f[2] ?? `#${stages.length}`, line: ins.line, from: image, ins: [] });
    continue;
  }
  const stage = stages[stages.length - 1];
  if (!stage) continue;
  stage.ins.push({ kw, rest, line: ins.line });
  if (kw === 'COPY' || kw === 'ADD') {
    const from = /--from=(\S+)/.exec(rest);
    if (from && !stages.slice(0, -1).some((s) => s.name === from[1]) && !from[1].includes(':'))
      fail(ins.line, `COPY --from=${from[1]}: no earlier stage of that name`);
  }
  if (kw === 'CMD' || kw === 'ENTRYPOINT' || (kw === 'HEALTHCHECK' && /\bCMD\s+\[/.test(rest))) {
    const json = kw === 'HEALTHCHECK' ? rest.slice(rest.indexOf('CMD') + 3).trim() : rest.trim();
    if (json.startsWith('[')) {
      try {
        const arr = JSON.parse(json);
        if (!Array.isArray(arr) || !arr.every((x) => typeof x === 'string'))
          fail(ins.line, `${kw}: exec form must be a JSON array of strings`);
      } catch (e) {
        fail(ins.line, `${kw}: exec form is not valid JSON (${e.message})`);
      }
    } else if (kw !== 'HEALTHCHECK')
      fail(ins.line, `${kw} in shell form: signals would go to /bin/sh, not node`);
  }
  if (kw === 'HEALTHCHECK' && !/\bCMD\b|^NONE$/.test(rest)) fail(ins.line, 'HEALTHCHECK without CMD');
  if (kw === 'RUN' && /\bapt-get install\b/.test(rest) && !/--no-install-recommends/.test(rest))
    fail(ins.line, 'apt-get install without --no-install-recommends');
  if (kw === 'RUN' && /\bcd\s/.test(rest)) fail(ins.line, 'use WORKDIR instead of cd');
}

// 3. What this repository's images must have.
const byName = Object.fromEntries(stages.map((s) => [s.name, s]));
for (const name of ['base', 'build', 'runtime', 'migrate'])
  if (!byName[name]) fail(1, `missing stage "${name}"`);
if (stages.at(-1)?.name !== 'runtime')
  fail(stages.at(-1)?.line ?? 1, 'the last (default) stage must be "runtime"');
const inherited = (stage, kw) => {
  // Instructions of a stage plus those of the stages it is built FROM.
  const chain = [];
  for (let s = stage; s; s = byName[s.from]) chain.unshift(...s.ins);
  return chain.filter((i) => i.kw === kw);
};
for (const name of ['runtime', 'migrate']) {
  const s = byName[name];
  if (!s) continue;
  const users = inherited(s, 'USER');
  const user = users.at(-1)?.rest.trim();
  if (!user || user === 'root' || user === '0') fail(s.line, `stage ${name} must end as a non-root USER`);
  if (!inherited(s, 'CMD').length) fail(s.line, `stage ${name} has no CMD`);
}
if (byName.runtime) {
  const rt = byName.runtime;
  if (!inherited(rt, 'HEALTHCHECK').some((h) => h.rest.includes('/health/live')))
    fail(rt.line, 'runtime HEALTHCHECK must hit /health/live');
  if (!inherited(rt, 'EXPOSE').length) fail(rt.line, 'runtime must EXPOSE its port');
  if (!inherited(rt, 'CMD').some((c) => c.rest.includes('dist/main.js')))
    fail(rt.line, 'runtime CMD must run dist/main.js');
}
if (byName.build && !byName.build.ins.some((i) => i.kw === 'RUN' && /pnpm .*deploy .*--prod/.test(i.rest)))
  fail(byName.build.line, 'build stage must run `pnpm ... deploy --prod`');

// 4. The ignore file BuildKit pairs with this Dockerfile must not drop what the build needs.
const ignore = `${file}.dockerignore`;
if (!existsSync(ignore)) fail(1, `missing ${ignore}`);
else {
  const rules = readFileSync(ignore, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const needed of [
    'package.json',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'apps',
    'packages',
    'tsconfig.base.json',
  ])
    if (rules.includes(needed) || rules.includes(`/${needed}`))
      fail(1, `${ignore} excludes ${needed}, which the build needs`);
  for (const must of ['**/node_modules', '**/dist'])
    if (!rules.includes(must)) fail(1, `${ignore} should exclude ${must}`);
}

if (problems.length) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(
  `ok: ${file} (${instructions.length} instructions, stages: ${stages.map((s) => s.name).join(' -> ')})`,
);
