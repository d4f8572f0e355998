// Usage: pnpm --filter @cdp/db dictionary [output.md] [--check]
// Writes docs/data-dictionary.md from the `///` comments of prisma/schema.prisma. Fails when a
// model or field is undocumented or a model lacks its owner line. --check: fail if the file is stale.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  DICTIONARY_PATH,
  findDocumentationProblems,
  normalizeMarkdown,
  readSchemaDoc,
  renderDataDictionary,
} from '../dictionary';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const output = path.resolve(args.find((a) => !a.startsWith('--')) ?? DICTIONARY_PATH);
  const doc = await readSchemaDoc();
  const problems = findDocumentationProblems(doc);
  if (problems.length) {
    console.error(`The schema is not fully documented:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
    return;
  }
  const markdown = renderDataDictionary(doc);
  if (check) {
    const current = await readFile(output, 'utf8').catch(() => '');
    if (normalizeMarkdown(current) !== normalizeMarkdown(markdown)) {
      console.error(`${output} is out of date: run pnpm --filter @cdp/db dictionary`);
      process.exitCode = 1;
    }
    return;
  }
  await writeFile(output, markdown);
  console.log(`Wrote ${output} (${doc.tables.length} tables, ${doc.enums.length} enums)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
