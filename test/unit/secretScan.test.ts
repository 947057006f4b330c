/** The e2e suite's secret scan (test/e2e/lib/secretScan.ts) finds what it looks for, and only that. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { registerSentinel, scanForSentinels } from '../e2e/lib/secretScan';

test('a registered secret inside a binary database file is found, a clean log is not, node_modules is skipped', () => {
	const dir = mkdtempSync(join(tmpdir(), 'scan-'));
	const secret = 'Sentinel~Secret.Value-0123456789';
	registerSentinel('unit sentinel', secret);
	writeFileSync(join(dir, 'clean.log'), 'nothing to see');
	expect(scanForSentinels(dir).findings).toEqual([]);

	mkdirSync(join(dir, '.n8n'), { recursive: true });
	writeFileSync(join(dir, '.n8n', 'database.sqlite'), Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(`{"error":"bad ${secret}"}`), Buffer.from([0])]));
	mkdirSync(join(dir, 'node_modules', 'x'), { recursive: true });
	writeFileSync(join(dir, 'node_modules', 'x', 'index.js'), secret);
	const result = scanForSentinels(dir);
	expect(result.findings).toEqual([{ file: join('.n8n', 'database.sqlite'), what: 'unit sentinel' }]);
});
