/**
 * The package under development, installed in the dev n8n the way a community package sits there
 * (`<userFolder>/.n8n/nodes/node_modules/n8n-nodes-defender-endpoint`: its package.json without dev/peer
 * dependencies, its runtime dependencies from the npm registry, compiled `dist/`), except that `dist/` is written by
 * `tsc --watch` straight from this checkout. n8n started with N8N_DEV_RELOAD=true watches that folder, drops the
 * package's modules from require's cache and reloads its node types when a file changes (n8n
 * `LoadNodesAndCredentials.setupHotReload`, the mechanism n8n's own `n8n-node dev` relies on).
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { PACKAGE_NAME, REPO_ROOT } from '../test/e2e/lib/paths';
import { spawnBackground } from '../test/e2e/lib/background';
import { killGroup, runChecked } from '../test/e2e/lib/proc';

export function packageDir(n8nFolder: string): string {
	return join(n8nFolder, 'nodes', 'node_modules', PACKAGE_NAME);
}

function writeIfChanged(file: string, content: string | Buffer): boolean {
	if (existsSync(file) && readFileSync(file).equals(Buffer.isBuffer(content) ? content : Buffer.from(content))) return false;
	mkdirSync(dirname(file), { recursive: true });
	writeFileSync(file, content);
	return true;
}

/**
 * package.json as n8n's installer leaves it (no dev/peer/optional dependencies), the runtime dependencies
 * (`npm install` in the package folder, only when a pinned version is missing: the first run, about 5 s), and the
 * `.n8n/nodes/package.json` ledger. Returns what it did, for the log.
 */
export async function preparePackageDir(n8nFolder: string): Promise<{ dir: string; installedDependencies: boolean }> {
	const dir = packageDir(n8nFolder);
	const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown> & { dependencies?: Record<string, string>; version: string };
	for (const key of ['devDependencies', 'peerDependencies', 'optionalDependencies', 'scripts']) delete pkg[key];
	writeIfChanged(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
	const missing = Object.entries(pkg.dependencies ?? {}).filter(([name, version]) => {
		const file = join(dir, 'node_modules', name, 'package.json');
		return !existsSync(file) || (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version !== version;
	});
	if (missing.length > 0) {
		await runChecked(
			'npm',
			['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false', '--loglevel=error'],
			{ cwd: dir, env: { ...process.env, npm_config_update_notifier: 'false' }, timeoutMs: 240_000 },
		);
	}
	const ledgerPath = join(n8nFolder, 'nodes', 'package.json');
	const ledger = existsSync(ledgerPath)
		? (JSON.parse(readFileSync(ledgerPath, 'utf8')) as { dependencies?: Record<string, string> })
		: { name: 'installed-nodes', private: true, dependencies: {} };
	ledger.dependencies = { ...ledger.dependencies, [PACKAGE_NAME]: pkg.version };
	writeIfChanged(ledgerPath, `${JSON.stringify(ledger, null, 2)}\n`);
	return { dir, installedDependencies: missing.length > 0 };
}

/** What gulpfile.js copies next to the compiled code: icons and the nodes' codex files. */
const ASSET_ROOTS: Array<{ folder: string; match: RegExp }> = [
	{ folder: 'icons', match: /\.svg$/ },
	{ folder: 'nodes', match: /\.svg$|\.node\.json$/ },
	{ folder: 'credentials', match: /\.svg$/ },
];

function walk(dir: string): string[] {
	if (!existsSync(dir)) return [];
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		return entry.isDirectory() ? walk(path) : [path];
	});
}

/** Copies icons and codex files into `<dir>/dist` (only those that changed, so n8n reloads only when needed). */
export function copyAssets(dir: string): string[] {
	const copied: string[] = [];
	for (const { folder, match } of ASSET_ROOTS) {
		for (const file of walk(join(REPO_ROOT, folder))) {
			if (!match.test(file)) continue;
			const rel = relative(REPO_ROOT, file);
			const target = join(dir, 'dist', rel);
			if (existsSync(target) && statSync(target).size === statSync(file).size && readFileSync(target).equals(readFileSync(file))) continue;
			mkdirSync(dirname(target), { recursive: true });
			copyFileSync(file, target);
			copied.push(rel);
		}
	}
	return copied;
}

export interface CompileResult {
	errors: string[];
	durationMs: number;
	initial: boolean;
}

/**
 * `tsc -p tsconfig.build.json --watch --outDir <package>/dist`: compiles once, then again on every change of a
 * source file. Type errors do not stop the output (as in `npm run build`); they are reported.
 */
export class Compiler {
	readonly process: ChildProcess;
	private startedAt = Date.now();
	private errors: string[] = [];
	private compiled = 0;
	private firstResult: Promise<CompileResult>;

	constructor(outDir: string, onCompiled: (result: CompileResult) => void) {
		const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
		this.process = spawnBackground(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--watch', '--preserveWatchOutput', '--pretty', 'false', '--outDir', outDir], { cwd: REPO_ROOT });
		let resolveFirst: (result: CompileResult) => void = () => undefined;
		let rejectFirst: (error: Error) => void = () => undefined;
		this.firstResult = new Promise<CompileResult>((resolvePromise, reject) => {
			resolveFirst = resolvePromise;
			rejectFirst = reject;
		});
		const stderr: string[] = [];
		this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
		this.process.on('close', (code, signal) => {
			if (this.compiled === 0) rejectFirst(new Error(`tsc --watch exited (${code ?? signal}) before its first compilation: ${stderr.join('').slice(-2000)}`));
		});
		createInterface({ input: this.process.stdout! }).on('line', (line) => {
			if (/Starting compilation in watch mode|File change detected/.test(line)) {
				this.startedAt = Date.now();
				this.errors = [];
			} else if (/error TS\d+/.test(line)) {
				this.errors.push(line.trim());
			} else {
				const done = /Found (\d+) errors?\. Watching for file changes/.exec(line);
				if (done) {
					const result: CompileResult = { errors: this.errors, durationMs: Date.now() - this.startedAt, initial: this.compiled === 0 };
					this.compiled += 1;
					if (result.initial) resolveFirst(result);
					else onCompiled(result);
				}
			}
		});
	}

	/** Resolves after the first compilation (about 7 s on 2 cores). */
	async ready(): Promise<CompileResult> {
		return await this.firstResult;
	}

	stop(): void {
		killGroup(this.process, 'SIGTERM');
	}
}
