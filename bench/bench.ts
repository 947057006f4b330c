/**
 * Benchmark of the action node against the emulator with Defender's documented rate limits ON, time-scaled
 * (windows ×0.01 on the emulator and in the client pacer). Prints a table and writes bench/results/latest.json.
 *
 *   npm run bench            (re-executes itself with NODE_EXTRA_CA_CERTS=test/.certs/ca.pem when needed;
 *                             TLS to the emulator is always verified)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const ca = path.join(root, 'test', '.certs', 'ca.pem');

if (!existsSync(ca)) {
	 
	const made = spawnSync('bash', [path.join(root, 'scripts', 'make-certs.sh')], { stdio: 'inherit' });
	if (made.status !== 0) process.exit(made.status ?? 1);
}

if (!process.env.NODE_EXTRA_CA_CERTS || path.resolve(process.env.NODE_EXTRA_CA_CERTS) !== ca) {
	// Node reads NODE_EXTRA_CA_CERTS only at start-up: run again with it set.
	 
	const again = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], {
		stdio: 'inherit',
		env: { ...process.env, NODE_EXTRA_CA_CERTS: ca },
	});
	process.exit(again.status ?? 1);
} else {
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	(require('./run') as { main: () => Promise<void> }).main().catch((error: unknown) => {
		console.error(error);
		process.exit(1);
	});
}
