/**
 * A copy of this checkout in a temp folder, for tests that must edit source files (dev.e2e.ts saves a change and
 * watches n8n reload it) or run the README's clone commands (install.e2e.ts: `npm ci && npm run build && npm pack`),
 * without touching the checkout other people work in. Generated and local folders are left out; `node_modules`
 * and the fetched Node 24 can be linked instead of installed again.
 *
 * E2E_SOURCE_FROM_GIT_HEAD=1 takes the package's sources (nodes/, credentials/, icons/, index.ts) from the last
 * commit instead of the work tree (`git archive HEAD`, read-only): for checking these tests while someone else's
 * edits of the sources are half done.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { REPO_ROOT } from './paths';

const LEFT_OUT = ['node_modules', '.git', '.cache', '.n8n-e2e', 'artifacts', 'dist', 'coverage', 'bench/results', 'docker/node_modules'];

export function copyCheckout(dest: string, options: { linkNodeModules?: boolean; linkNode24?: boolean } = {}): string {
	mkdirSync(dest, { recursive: true });
	cpSync(REPO_ROOT, dest, {
		recursive: true,
		filter: (src) => {
			const rel = relative(REPO_ROOT, src);
			if (rel === '') return true;
			if (/\.tgz$/.test(rel)) return false;
			return !LEFT_OUT.some((p) => rel === p || rel.startsWith(`${p}${sep}`));
		},
	});
	if (process.env.E2E_SOURCE_FROM_GIT_HEAD === '1') {
		const sources = ['nodes', 'credentials', 'icons', 'index.ts'];
		for (const p of sources) rmSync(join(dest, p), { recursive: true, force: true });
		const archive = execFileSync('git', ['archive', '--format=tar', 'HEAD', ...sources], { cwd: REPO_ROOT, maxBuffer: 256 * 1024 * 1024 });
		execFileSync('tar', ['-x', '-C', dest], { input: archive });
	}
	if (options.linkNodeModules) symlinkSync(join(REPO_ROOT, 'node_modules'), join(dest, 'node_modules'), 'dir');
	const node24 = join(REPO_ROOT, '.cache', 'node24');
	if (options.linkNode24 && existsSync(node24)) {
		mkdirSync(join(dest, '.cache'), { recursive: true });
		symlinkSync(node24, join(dest, '.cache', 'node24'), 'dir');
	}
	return dest;
}
