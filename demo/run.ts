/**
 * The demo (`npm run demo`): a real n8n 2.41.1 runs the MSSP example workflow against the bundled Defender + Entra
 * emulator. Builds and packs the package, installs it into a throw-away n8n user folder the way n8n installs
 * community packages, imports a credential pointed at the emulator and examples/mssp-high-severity-triage.workflow.json,
 * runs it with `n8n execute`, checks the result against the emulator and prints a summary. Then a second step runs
 * examples/mssp-respond-isolate-block.workflow.json the same way (isolate the alert's device and wait, block the
 * alert's file hash, comment on the alert, a ticket) and checks the machine actions, indicators, comments and the
 * request log: nothing was sent for any other tenant or machine.
 */
import { createHash } from 'node:crypto';
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
	type EmulatorProcess as Emulator,
} from '../test/e2e/lib';
import { emptyEvidence } from '../test/emulator/seed';
import { MSSP_ROLES } from '../test/emulator/scenario';
import type { RequestLogEntry } from '../test/emulator/types';

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

/** The respond example's Ticket node output. */
export interface ResponseTicket {
	customer: string;
	title: string;
	alertId: string;
	tenantId: string;
	machineId: string;
	machine: string;
	isolationActionId: string;
	isolationStatus: string;
	indicatorId: string;
	indicatorType: string;
	blockedHash: string;
}

/** What the respond example needs on top of the triage scenario: response and indicator permissions. */
export const RESPOND_ROLES = [...MSSP_ROLES, 'Machine.Isolate', 'Ti.ReadWrite.All'];
export const RESPOND_EXAMPLE = 'mssp-respond-isolate-block.workflow.json';

interface Customer {
	id: string;
	name: string;
	domain: string;
}
export interface PlantedAlert {
	tenantId: string;
	customer: string;
	alertId: string;
	machineId: string;
	computerDnsName: string;
	sha1: string;
	sha256: string;
}

/**
 * Gives each customer tenant the permissions of the respond example (call before the first token is issued), and
 * a quick machine-action lifecycle (pending 0.5 s, in progress 1 s).
 */
export async function prepareRespond(emulator: Emulator, customers: Customer[]): Promise<void> {
	for (const c of customers) await emulator.control('POST', '/roles', { tenantId: c.id, clientId: emulator.state.clientId, roles: RESPOND_ROLES });
	await emulator.control('POST', '/machine-api/timing', { pendingMs: 500, inProgressMs: 1000 });
}

/**
 * One fresh New/High alert per customer tenant on an active Windows machine of that tenant, with a File evidence
 * (SHA-1 and SHA-256): the newest alert, so the example's Get Many (newest first, limit 1) picks it.
 */
export async function plantAlerts(emulator: Emulator, customers: Customer[]): Promise<PlantedAlert[]> {
	const planted: PlantedAlert[] = [];
	for (const c of customers) {
		const machines = (await emulator.control<{ value: Array<{ id: string; computerDnsName: string; healthStatus: string; osPlatform: string }> }>('GET', `/machine-api/tenants/${c.id}/machines`)).value;
		const machine = machines.filter((m) => m.healthStatus === 'Active' && m.osPlatform.startsWith('Windows'))[0];
		if (!machine) throw new Error(`No active Windows machine in ${c.name}`);
		const key = `demo|${c.id}|${machine.id}`;
		const sha1 = createHash('sha1').update(key).digest('hex');
		const sha256 = createHash('sha256').update(key).digest('hex');
		const file = { ...emptyEvidence('File', new Date().toISOString()), sha1, sha256, fileName: 'invoice_0425.exe', filePath: 'C:\\Users\\Public\\Downloads' };
		const added = await emulator.control<{ value: Array<{ id: string }> }>('POST', `/tenants/${c.id}/alerts`, [
			{
				severity: 'High',
				status: 'New',
				title: 'Ransomware payload executed from a downloaded invoice',
				category: 'Ransomware',
				machineId: machine.id,
				computerDnsName: machine.computerDnsName,
				evidence: [file],
			},
		]);
		planted.push({ tenantId: c.id, customer: c.name, alertId: added.value[0].id, machineId: machine.id, computerDnsName: machine.computerDnsName, sha1, sha256 });
	}
	return planted;
}

export interface RespondCheck {
	/** API requests of the run (kind api), token requests (kind token) */
	api: RequestLogEntry[];
	tokens: RequestLogEntry[];
	perTenant: Map<string, { isolated: number; blocked: number; commented: number; calls: number }>;
}

/**
 * Checks the respond run against the emulator: each planted alert's machine has a Succeeded isolate action, each
 * blocked hash is a Block indicator in the right tenant, each alert has the comment; and the request log shows
 * isolate/indicator/comment requests for exactly these tenants and machines, nothing else sent anywhere.
 */
export async function checkRespond(emulator: Emulator, planted: PlantedAlert[], tickets: ResponseTicket[], sinceSeq: number): Promise<RespondCheck> {
	const problems: string[] = [];
	const log = (await emulator.control<{ value: RequestLogEntry[] }>('GET', `/requests?sinceSeq=${sinceSeq}`)).value;
	const api = log.filter((e) => e.kind === 'api');
	const tokens = log.filter((e) => e.kind === 'token');
	const perTenant = new Map<string, { isolated: number; blocked: number; commented: number; calls: number }>();
	if (tickets.length !== planted.length) problems.push(`${tickets.length} tickets for ${planted.length} planted alerts`);
	for (const p of planted) {
		const counts = { isolated: 0, blocked: 0, commented: 0, calls: api.filter((e) => e.tenantId === p.tenantId).length };
		perTenant.set(p.customer, counts);
		const ticket = tickets.find((t) => t.alertId === p.alertId);
		if (!ticket) {
			problems.push(`no ticket for ${p.customer} alert ${p.alertId}`);
			continue;
		}
		const actions = (await emulator.control<{ value: Array<{ id: string; type: string; machineId: string; status: string; scope?: string }> }>('GET', `/machine-api/tenants/${p.tenantId}/actions`)).value;
		const isolate = actions.filter((a) => a.type === 'Isolate');
		if (isolate.length !== 1 || isolate[0].machineId !== p.machineId || isolate[0].status !== 'Succeeded' || isolate[0].id !== ticket.isolationActionId) {
			problems.push(`${p.customer}: isolate actions ${JSON.stringify(isolate.map((a) => [a.machineId, a.status]))}, expected one Succeeded on ${p.machineId}`);
		} else counts.isolated += 1;
		const indicators = (await emulator.control<{ value: Array<{ id: string | number; indicatorValue: string; indicatorType: string; action: string }> }>('GET', `/indicators/${p.tenantId}`)).value;
		const block = indicators.filter((x) => x.indicatorValue.toLowerCase() === p.sha256);
		if (indicators.length !== 1 || block.length !== 1 || block[0].action !== 'Block' || block[0].indicatorType !== 'FileSha256' || String(block[0].id) !== String(ticket.indicatorId)) {
			problems.push(`${p.customer}: indicators ${JSON.stringify(indicators.map((x) => [x.indicatorType, x.indicatorValue, x.action]))}, expected one Block of ${p.sha256}`);
		} else counts.blocked += 1;
		const alert = await emulator.control<{ comments: Array<{ comment: string }> }>('GET', `/tenants/${p.tenantId}/alerts/${encodeURIComponent(p.alertId)}`);
		const comment = alert.comments.find((c) => c.comment.startsWith('n8n response'));
		if (!comment || !comment.comment.includes(ticket.isolationActionId) || !comment.comment.includes(String(ticket.indicatorId)) || !comment.comment.includes('Succeeded')) {
			problems.push(`${p.customer}: alert ${p.alertId} has no comment naming the action and the indicator`);
		} else counts.commented += 1;
	}
	// Nothing outside the selection: only the two tenants, the planted machines, the planted alerts.
	const tenants = new Set(planted.map((p) => p.tenantId));
	for (const e of [...api, ...tokens]) if (!e.tenantId || !tenants.has(e.tenantId)) problems.push(`request outside the customer tenants: ${e.method} ${e.path} [${e.tenantId}]`);
	const writes = api.filter((e) => e.method !== 'GET');
	const expected = planted.flatMap((p) => [`${p.tenantId} POST /api/machines/${p.machineId}/isolate`, `${p.tenantId} POST /api/indicators`, `${p.tenantId} PATCH /api/alerts/${p.alertId}`]);
	const seen = writes.map((e) => `${e.tenantId} ${e.method} ${e.path}`);
	if (JSON.stringify([...seen].sort()) !== JSON.stringify([...expected].sort())) problems.push(`writes sent: ${JSON.stringify(seen)}; expected ${JSON.stringify(expected)}`);
	const failed = api.filter((e) => e.status >= 400);
	if (failed.length > 0) problems.push(`failed requests: ${failed.map((e) => `${e.method} ${e.path} ${e.status}`).join(', ')}`);
	if (problems.length > 0) throw new Error(`The respond run does not match the emulator:\n  ${problems.join('\n  ')}`);
	return { api, tokens, perTenant };
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
	// The respond step (step 2) isolates and blocks: the customers consent to those permissions up front.
	await prepareRespond(emulator, customers);

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
				`${calls.count} API calls, ${tokens.count} token requests. (${secs(Date.now() - started)} so far)`,
		);

		step('Step 2: respond — a new high-severity alert with a file arrives in each customer tenant');
		const planted = await plantAlerts(emulator, customers);
		for (const p of planted) console.log(`  [${p.customer}] alert ${p.alertId} on ${p.computerDnsName}, file SHA-256 ${p.sha256.slice(0, 16)}…`);
		const respondWorkflow = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', RESPOND_EXAMPLE), 'utf8')) as ImportableWorkflow;
		const respondId = await importWorkflow(instance, { ...respondWorkflow, id: newWorkflowId() });
		console.log(`  workflow "${respondWorkflow.name}" → ${respondWorkflow.nodes.map((n) => n.name).join(' → ')}`);
		const mark = Math.max(0, ...(await emulator.control<{ value: Array<{ seq: number }> }>('GET', '/requests?kind=control')).value.map((e) => e.seq));
		const respond = await execute(instance, respondId);
		if (!respond.ok) {
			throw new Error(`The respond workflow failed: ${respond.errorMessage ?? respond.status}`);
		}
		const responseTickets = nodeItems(respond.run, 'Ticket') as unknown as ResponseTicket[];
		console.log(`  finished in ${secs(respond.durationMs)}: ${responseTickets.length} devices isolated and files blocked`);

		step('Checking machine actions, indicators, comments and the request log in Defender (emulator)');
		const check = await checkRespond(emulator, planted, responseTickets, mark);
		console.log('\nResponse tickets:\n');
		for (const t of responseTickets) {
			console.log(`  [${t.customer}] ${t.title}`);
			console.log(`      machine ${t.machine} isolated: action ${t.isolationActionId} ${t.isolationStatus}`);
			console.log(`      ${t.indicatorType} ${t.blockedHash.slice(0, 16)}… blocked: indicator ${t.indicatorId}   alert ${t.alertId} commented`);
		}
		const perTenant = [...check.perTenant].map(([name, c]) => `${name} ${c.isolated} isolated / ${c.blocked} blocked / ${c.commented} commented (${c.calls} API calls)`).join('; ');
		console.log(
			`\nSummary (respond): ${perTenant}. Verified in Defender: each isolation Succeeded, each hash is a Block indicator in its own tenant, ` +
				`each alert carries the comment, and no request went to another tenant or machine. ${check.api.length} API calls, ${check.tokens.length} token requests. ` +
				`Total ${secs(Date.now() - started)}.`,
		);
	} finally {
		await disposeInstance(instance);
		await emulator.stop();
	}
}

// The respond helpers above are shared with test/e2e/respond-example.e2e.ts: run the demo only as the entry point.
if (require.main === module) {
	main().then(
		() => process.exit(0),
		(error: unknown) => {
			console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
			process.exit(1);
		},
	);
}
