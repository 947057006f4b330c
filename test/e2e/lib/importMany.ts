/**
 * Imports several workflows with ONE `n8n import:workflow` (a file holding an array; each `id` is kept): one CLI
 * start-up instead of one per workflow, for files that import a few workflows into the same instance.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newWorkflowId, runCli, type N8nInstance } from './n8n';
import { tail } from './proc';
import type { ImportableWorkflow } from './workflows';

export async function importWorkflows(instance: N8nInstance, workflows: ImportableWorkflow[]): Promise<string[]> {
	const list = workflows.map((w) => ({ active: false, settings: {}, ...w, id: w.id ?? newWorkflowId() }));
	const file = join(instance.userFolder, `workflows-${Date.now()}-${randomBytes(3).toString('hex')}.json`);
	writeFileSync(file, JSON.stringify(list, null, 2));
	try {
		const result = await runCli(instance, ['import:workflow', `--input=${file}`]);
		if (result.code !== 0) {
			throw new Error(`n8n import:workflow (${list.length} workflows) failed (exit ${result.code ?? result.signal})\n${tail(`${result.stdout}\n${result.stderr}`, 40)}`);
		}
	} finally {
		rmSync(file, { force: true });
	}
	return list.map((w) => w.id);
}
