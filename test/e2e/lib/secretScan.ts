/**
 * Issue 11's last check: after each n8n instance of the end-to-end suite, its whole user folder (the SQLite database
 * with every saved execution, n8n's logs, the CLI output of `n8n execute`, event logs) is searched for the sentinel
 * secrets: the emulator's client secrets and the test private keys and passphrase. Credentials are stored encrypted
 * by n8n, so a plain-text hit means a secret reached execution data, a log or an output. A hit fails the test file
 * that owned the instance; every scan is appended to artifacts/secret-scan.log, which scripts/e2e.sh summarises.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { ARTIFACTS_DIR, REPO_ROOT } from './paths';

const sentinels = new Map<string, string>();

/** A value that must never appear in plain text (ignored when too short to be distinctive). */
export function registerSentinel(label: string, value: string | undefined): void {
	if (value && value.length >= 12) sentinels.set(value, label);
}

/** The test private keys (a distinctive base64 line of each key's body) and the key passphrase. */
function registerKeySentinels(): void {
	const dir = join(REPO_ROOT, 'test', '.certs', 'client');
	if (!existsSync(dir)) return;
	for (const name of readdirSync(dir)) {
		const text = readFileSync(join(dir, name), 'utf8');
		if (name === 'passphrase.txt') registerSentinel('key passphrase', text.trim());
		if (!/PRIVATE KEY-----/.test(text)) continue;
		// The second and third body lines: deep inside the key material (the first line starts alike for many keys).
		const body = text.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l.trim()));
		for (const line of body.slice(1, 3)) registerSentinel(`private key ${name}`, line.trim());
	}
}

export interface ScanResult {
	files: number;
	bytes: number;
	findings: Array<{ file: string; what: string }>;
}

function walk(dir: string, out: string[]): void {
	for (const entry of readdirSync(dir, { withFileTypes: true })) {
		// The installed package and its dependencies are code, not data written by n8n.
		if (entry.name === 'node_modules') continue;
		const path = join(dir, entry.name);
		if (entry.isDirectory()) walk(path, out);
		else if (entry.isFile()) out.push(path);
	}
}

export function scanForSentinels(dir: string): ScanResult {
	registerKeySentinels();
	const result: ScanResult = { files: 0, bytes: 0, findings: [] };
	if (!existsSync(dir)) return result;
	const files: string[] = [];
	walk(dir, files);
	for (const file of files) {
		if (statSync(file).size > 512 * 1024 * 1024) continue;
		const text = readFileSync(file).toString('latin1');
		result.files += 1;
		result.bytes += text.length;
		for (const [value, what] of sentinels) {
			// JSON escapes "/" in some writers; a key line may appear as \/.
			if (text.includes(value) || text.includes(value.replace(/\//g, '\\/'))) result.findings.push({ file: file.slice(dir.length + 1), what });
		}
	}
	return result;
}

/** Scans an instance's user folder; records the result; throws when a sentinel was found. */
export function assertNoSentinels(name: string, dir: string): void {
	const result = scanForSentinels(dir);
	mkdirSync(ARTIFACTS_DIR, { recursive: true });
	appendFileSync(
		join(ARTIFACTS_DIR, 'secret-scan.log'),
		`${JSON.stringify({ instance: name, files: result.files, bytes: result.bytes, sentinels: sentinels.size, findings: result.findings })}\n`,
	);
	if (result.findings.length > 0) {
		throw new Error(`Secret scan of n8n instance "${name}": ${result.findings.map((f) => `${f.what} in ${f.file}`).join('; ')}`);
	}
}
