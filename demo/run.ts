/**
 * The demo (`npm run demo`): a real n8n 2.41.1 runs the MSSP example workflow against the bundled Defender + Entra
 * emulator. Builds and packs the package, installs it into a throw-away n8n user folder the way n8n installs
 * community packages, imports a credential pointed at the emulator and examples/mssp-high-severity-triage.workflow.json,
 * runs it with `n8n execute`, checks the result against the emulator and prints a summary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
	createInstance,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	importWorkflow,
	installPackage,
	type ImportableWorkflow,
	newWorkflowId,
	nodeItems,
	packTarball,
	REPO_ROOT,
	startEmulatorProcess,
} from '../test/e2e/lib';

interface Ticket {
	customer: string;
	title: string;
	severity: string;
	status: string;
	machine: string;
	user: string;
	ips: string;
	portalUrl: string;
	dedupKey: string;
	alertId: string;
	tenantId: string;
}

const step = (text: string) => console.log(`\n▶ ${text}`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
	const started = Date.now();
	step('Building and packing n8n-nodes-defender-endpoint');
	const tgz = await packTarball();
	console.log(`  ${tgz}`);

	step('Starting the Defender + Entra emulator (HTTPS on 127.0.0.1, two customer tenants)');
	const emulator = await startEmulatorProcess();
	const { state } = emulator;
	const customers = state.tenants.filter((t) => t.domain !== undefined && /contoso|fabrikam/.test(t.domain));
	console.log(`  ${state.url}  app ${state.clientId}  tenants: ${customers.map((t) => `${t.name} (${t.domain})`).join(', ')}`);

	const instance = await createInstance({ name: 'demo' });
	try {
		step('Installing the package into a fresh n8n user folder (as Settings → Community Nodes does)');
		const installed = await installPackage(instance, tgz);
		console.log(`  ${installed.dir} (${secs(installed.durationMs)})`);

		step('Importing the MSSP credential (one multi-tenant app) and the example workflow');
		// The credential's own tenant is the MSSP's; the workflow names each customer tenant per item.
		const credential = emulatorCredential(state, { id: 'mdeMsspCredential', name: 'Defender (MSSP app)', tenantId: String(state.homeTenantId ?? customers[0].id) });
		await importCredentials(instance, [credential]);
		const workflow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', 'mssp-high-severity-triage.workflow.json'), 'utf8')) as ImportableWorkflow;
		const workflowId = await importWorkflow(instance, { ...workflow, id: newWorkflowId() });
		console.log(`  workflow "${workflow.name}" → ${workflow.nodes.map((n) => n.name).join(' → ')}`);

		step('Running it with the real n8n CLI (n8n execute)');
		const result = await execute(instance, workflowId);
		if (!result.ok) {
			throw new Error(`The workflow failed: ${result.errorMessage ?? result.status}`);
		}
		const fetched = nodeItems(result.run, 'New high-severity alerts');
		const tickets = nodeItems(result.run, 'Ticket') as unknown as Ticket[];
		console.log(`  finished in ${secs(result.durationMs)}: ${fetched.length} new high-severity alerts, ${tickets.length} tickets`);

		step('Checking the alerts in Defender (emulator) after the run');
		let verified = 0;
		for (const t of tickets) {
			const tenant = customers.find((c) => c.domain === t.tenantId || c.id === t.tenantId) ?? customers.find((c) => c.name === t.customer);
			const alert = await emulator.control<{ status: string; comments: Array<{ comment: string }> }>('GET', `/tenants/${tenant?.id ?? t.tenantId}/alerts/${encodeURIComponent(t.alertId)}`);
			const commented = alert.comments.some((c) => c.comment.includes(t.dedupKey));
			if (alert.status !== 'InProgress' || !commented) {
				throw new Error(`Alert ${t.alertId} is ${alert.status} (comment ${commented ? 'present' : 'missing'}) after the run`);
			}
			verified += 1;
		}
		const calls = await emulator.control<{ count: number }>('GET', '/count?kind=api');
		const tokens = await emulator.control<{ count: number }>('GET', '/count?kind=token');

		console.log('\nTickets ready for the ticketing system:\n');
		for (const t of tickets) {
			console.log(`  [${t.customer}] ${t.severity.toUpperCase()} ${t.title}`);
			console.log(`      machine ${t.machine}   user ${t.user}   ips ${t.ips || '-'}`);
			console.log(`      status ${t.status}   dedupKey ${t.dedupKey}`);
			console.log(`      ${t.portalUrl}`);
		}
		console.log(
			`\nSummary: fetched ${fetched.length} new high-severity alerts across ${customers.length} customer tenants with one credential, ` +
				`enriched each with its machine, user, IPs and domains, set ${verified} to In Progress with a comment (verified in Defender). ` +
				`${calls.count} API calls, ${tokens.count} token requests. Total ${secs(Date.now() - started)}.`,
		);
	} finally {
		await disposeInstance(instance);
		await emulator.stop();
	}
}

main().then(
	() => process.exit(0),
	(error: unknown) => {
		console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
		process.exit(1);
	},
);
