/** The README's sections and shell blocks, so tests can run its commands exactly as written. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

/** The text under `heading` (a whole line, e.g. "### n8n in Docker") up to the next heading of the same or a higher level. */
export function readmeSection(heading: string, readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')): string {
	const lines = readme.split('\n');
	const start = lines.findIndex((line) => line.trim() === heading);
	if (start < 0) throw new Error(`README.md has no heading "${heading}"`);
	const level = /^#+/.exec(heading)![0].length;
	const rest = lines.slice(start + 1);
	let fenced = false; // a "# comment" in a ```sh block is not a heading
	const end = rest.findIndex((line) => {
		if (line.startsWith('```')) fenced = !fenced;
		const m = /^(#+) /.exec(line);
		return !fenced && m !== null && m[1].length <= level;
	});
	return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** The fenced ```sh blocks of a piece of Markdown, in order, without the fences. */
export function shellBlocks(markdown: string): string[] {
	return [...markdown.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The command lines of a shell block (comments and blank lines dropped). */
export function commandLines(block: string): string[] {
	return block
		.split('\n')
		.map((line) => line.trim())
		.filter((line) => line !== '' && !line.startsWith('#'));
}
