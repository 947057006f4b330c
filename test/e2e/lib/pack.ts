/**
 * Builds the package and packs it exactly as it would be published (`npm pack`), once per test process.
 * Set E2E_SKIP_BUILD=1 when `npm run build` already ran (scripts/e2e.sh does that).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';
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
			const build = options.build ?? process.env.E2E_SKIP_BUILD !== '1';
			if (build) await runChecked('npm', ['run', 'build', '--silent'], { cwd: REPO_ROOT, timeoutMs: 300_000 });
			const dest = mkdtempSync(join(tmpdir(), 'mde-pack-'));
			const result = await runChecked('npm', ['pack', '--json', '--pack-destination', dest, '--loglevel=error'], { cwd: REPO_ROOT, timeoutMs: 120_000 });
			const json = result.stdout.slice(result.stdout.indexOf('['));
			const [info] = JSON.parse(json) as Array<{ filename: string }>;
			return join(dest, info.filename);
		})();
		packed.catch(() => (packed = undefined));
	}
	return await packed;
}
