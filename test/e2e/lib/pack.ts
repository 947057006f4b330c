/**
 * Builds the package and packs it exactly as it would be published (`npm pack`), once per test process.
 * Set E2E_SKIP_BUILD=1 when `npm run build` already ran (scripts/e2e.sh does that); E2E_SOURCE_FROM_GIT_HEAD=1
 * builds and packs the last commit's sources instead of the work tree's (see checkout.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';
import { copyCheckout } from './checkout';
import { runChecked } from './proc';

let packed: Promise<string> | undefined;

export interface PackOptions {
	/** Run `npm run build` first (default: unless E2E_SKIP_BUILD=1). */
	build?: boolean;
	/** Pack again even if this process already packed. */
	force?: boolean;
}

/** Returns the path of `n8n-nodes-defender-endpoint-<version>.tgz` in a fresh temp folder. */
export async function packTarball(options: PackOptions = {}): Promise<string> {
	if (!packed || options.force) {
		packed = (async () => {
			let root = REPO_ROOT;
			let build = options.build ?? process.env.E2E_SKIP_BUILD !== '1';
			if (process.env.E2E_SOURCE_FROM_GIT_HEAD === '1') {
				// The last commit's sources, built in a copy (see checkout.ts): the work tree's dist/ is not used.
				root = copyCheckout(mkdtempSync(join(tmpdir(), 'mde-pack-head-')), { linkNodeModules: true });
				build = true;
			}
			if (build) await runChecked('npm', ['run', 'build', '--silent'], { cwd: root, timeoutMs: 300_000 });
			const dest = mkdtempSync(join(tmpdir(), 'mde-pack-'));
			const result = await runChecked('npm', ['pack', '--json', '--pack-destination', dest, '--loglevel=error'], { cwd: root, timeoutMs: 120_000 });
			if (root !== REPO_ROOT) rmSync(root, { recursive: true, force: true });
			const json = result.stdout.slice(result.stdout.indexOf('['));
			const [info] = JSON.parse(json) as Array<{ filename: string }>;
			return join(dest, info.filename);
		})();
		packed.catch(() => (packed = undefined));
	}
	return await packed;
}
