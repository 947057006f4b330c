/**
 * Compatibility beyond the main n8n 2.41.1 / Node 24: a smoke set against each version in E2E_COMPAT_VERSIONS
 * (default "1.123.81@22": the last n8n 1.x line on Node 22; set it empty to skip). Each version is installed once
 * into the n8n cache by scripts/n8n-install.sh (the first time about 7 minutes, later seconds). Per version:
 * the package installs the way n8n installs community packages and loads (both node types, the credential type,
 * the tool variant with N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE unset); the credential test passes against the
 * emulator; one operation of each resource runs in one workflow (`n8n execute`: Alert, Machine, Machine Action,
 * Indicator, Tenant, and on Microsoft Graph Incident and Hunting), the action node in version 1 and 1.1; the trigger
 * (version 1.1) in a published (activated) workflow polls at activation and delivers alerts added afterwards.
 * Why not the newest 2.x patch: n8n@2.41.3 cannot be installed (its dependency @n8n/agents@0.26.2 is not on the
 * registry), so 2.41.1, which the rest of the suite runs, is the newest installable 2.x.
 */
import {
	chain,
	createInstance,
	CREDENTIAL_TYPE,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	ensureRuntime,
	execute,
	getExecutions,
	importCredentials,
	importWorkflow,
	installPackage,
	listCredentialTypes,
	listNodeTypes,
	login,
	manualWorkflow,
	NODE_TYPE,
	nodeItems,
	noOpNode,
	packTarball,
	PACKAGE_NAME,
	parseRuntimeSpecs,
	rest,
	api,
	start,
	startEmulatorProcess,
	TRIGGER_TYPE,
	waitFor,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { emulatorNow, emulatorRequests, logMark, triggerItems } from './lib/scenario';

const SPECS = parseRuntimeSpecs(process.env.E2E_COMPAT_VERSIONS ?? '1.123.81@22');
const TOOL_TYPE = `${PACKAGE_NAME}.microsoftDefenderForEndpointTool`;
const TRIGGER = 'New Defender alerts';

const suite = SPECS.length > 0 ? describe : describe.skip;

suite.each(SPECS.length > 0 ? SPECS : [{ version: 'none', nodeMajor: 0 }])('n8n $version on Node $nodeMajor', ({ version, nodeMajor }) => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let credential: ReturnType<typeof emulatorCredential>;

	beforeAll(async () => {
		const [runtime, tgz] = await Promise.all([ensureRuntime({ version, nodeMajor }), packTarball()]);
		console.log(`[e2e] n8n ${version} on Node ${nodeMajor}: ready in ${runtime.installMs} ms (${runtime.n8nScript})`);
		emulator = await startEmulatorProcess({ noRateLimits: true });
		n8n = await createInstance({
			name: `compat-${version}`,
			runtime,
			env: {
				N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE: undefined,
				// 1.x has no mcp-registry module and refuses to start when asked to disable an unknown one.
				...(version.startsWith('1.') ? { N8N_DISABLED_MODULES: undefined } : {}),
			},
		});
		await installPackage(n8n, tgz);
		// Incidents and hunting (Graph): the emulator serves Graph and the tenant consented to its permissions too
		await emulator.control('POST', '/graph', { enabled: true });
		await emulator.control('POST', '/roles', {
			tenantId: emulator.state.tenants[0].id,
			clientId: emulator.state.clientId,
			roles: ['Alert.ReadWrite.All', 'Machine.Read.All', 'File.Read.All', 'Ip.Read.All', 'URL.Read.All', 'User.Read.All', 'Ti.ReadWrite.All', 'SecurityIncident.Read.All', 'ThreatHunting.Read.All'],
		});
		credential = emulatorCredential(emulator.state);
		Object.assign(credential.data, { graphBaseUrl: emulator.state.url, graphScope: 'https://graph.microsoft.com/.default' });
		await importCredentials(n8n, [credential]);
		await start(n8n);
		// 1.x answers /healthz/readiness a few seconds before it mounts its /rest routes.
		await waitFor(async () => (await fetch(`${n8n.baseUrl}/rest/settings`)).status === 200, { timeoutMs: 60_000, intervalMs: 500, what: 'the /rest routes' });
		console.log(`[e2e] n8n ${version} start → healthy in ${n8n.server?.startupMs} ms`);
		await login(n8n);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs the n8n version asked for', async () => {
		const settings = await rest<{ versionCli?: string }>(n8n, 'GET', '/settings');
		expect(settings.versionCli).toBe(version);
	});

	it('loads the package: both node types, the tool variant and the credential type', async () => {
		expect(n8n.env.N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE).toBeUndefined();
		const nodes = (await listNodeTypes(n8n)).map((t) => t.name);
		expect(nodes).toEqual(expect.arrayContaining([NODE_TYPE, TRIGGER_TYPE, TOOL_TYPE]));
		expect(nodes.some((t) => t.startsWith('CUSTOM.'))).toBe(false);
		expect((await listCredentialTypes(n8n)).map((t) => t.name)).toContain(CREDENTIAL_TYPE);
	});

	it('passes the credential test against the emulator', async () => {
		// the stored credential's own data: n8n 1.x saves the tested data back with the token it got
		// POST /rest/credentials/test is what the editor's Test button calls (1.x has no public-API equivalent).
		const result = await rest<{ status: string; message: string }>(n8n, 'POST', '/credentials/test', {
			credentials: { id: credential.id, name: credential.name, type: credential.type, data: credential.data },
		});
		expect(result).toMatchObject({ status: 'OK' });
	});

	it('runs one operation of each resource (Alert in node versions 1 and 1.1) with n8n execute', async () => {
		// executeOnce: each node runs once whatever it receives; alwaysOutputData: an empty list (no machine actions yet) does not stop the chain
		const once = { extra: { executeOnce: true, alwaysOutputData: true } };
		const nodes = [
			defenderNode('Alerts', { resource: 'alert', operation: 'getAll', limit: 3 }, once),
			defenderNode('Alerts 1.1', { resource: 'alert', operation: 'getAll', limit: 2 }, { ...once, typeVersion: 1.1 }),
			defenderNode('Machines', { resource: 'machine', operation: 'getAll', limit: 2 }, once),
			defenderNode('Machine Actions', { resource: 'machineAction', operation: 'getAll', limit: 2 }, once),
			defenderNode('Indicators', { resource: 'indicator', operation: 'getAll', limit: 2 }, once),
			defenderNode('Access', { resource: 'tenant', operation: 'checkAccess' }, once),
			defenderNode('Incidents', { resource: 'incident', operation: 'getAll', limit: 2 }, once),
			defenderNode('Hunt', { resource: 'hunting', operation: 'runQuery', query: 'AlertInfo | take 2' }, once),
		];
		const id = await importWorkflow(n8n, manualWorkflow(`compat ${version}: every resource`, nodes));
		const result = await execute(n8n, id);
		if (result.errorMessage) console.log(`[e2e] failed at ${String(result.run.data.resultData.lastNodeExecuted)}: ${JSON.stringify(result.run.data.resultData.error).slice(0, 1500)}`);
		expect(result.errorMessage).toBeUndefined();
		const tenantId = emulator.state.tenants[0].id;
		const items = nodeItems(result.run, 'Alerts');
		expect(items).toHaveLength(3);
		for (const item of items) expect(item).toMatchObject({ tenantId, dedupKey: expect.stringMatching(/:/) });
		// version 1.1: Simplify is on by default
		const simple = nodeItems(result.run, 'Alerts 1.1');
		expect(simple).toHaveLength(2);
		expect(Object.keys(simple[0])).toEqual(expect.arrayContaining(['id', 'title', 'severity', 'dedupKey']));
		expect(simple[0]).not.toHaveProperty('evidence');
		expect(nodeItems(result.run, 'Machines')).toHaveLength(2);
		expect(nodeItems(result.run, 'Machine Actions').length).toBeLessThanOrEqual(2);
		expect(nodeItems(result.run, 'Indicators').length).toBeLessThanOrEqual(2);
		expect(nodeItems(result.run, 'Access')).toHaveLength(1);
		const incidents = nodeItems(result.run, 'Incidents');
		expect(incidents).toHaveLength(2);
		for (const item of incidents) expect(String(item.dedupKey)).toMatch(/:incident:/);
		const rows = nodeItems(result.run, 'Hunt');
		expect(rows).toHaveLength(2);
		for (const row of rows) expect(row).toMatchObject({ tenantId });
	});

	it('activates the trigger (one poll at activation) and delivers alerts added afterwards', async () => {
		const tenantId = emulator.state.tenants[0].id;
		const trigger = defenderNode(TRIGGER, { event: 'newAlert', pollTimes: { item: [{ mode: 'everyMinute' }] }, startFrom: 'now' }, { type: TRIGGER_TYPE, typeVersion: 1.1 });
		const workflowId = await importWorkflow(n8n, chain(`compat ${version}: trigger`, [trigger, noOpNode()]));
		const mark = await logMark(emulator);
		// n8n 2.x publishes, 1.x activates; both are public-API calls on the running server.
		await api(n8n, 'POST', `/workflows/${workflowId}/${version.startsWith('1.') ? 'activate' : 'publish'}`, version.startsWith('1.') ? undefined : {});
		await waitFor(async () => (await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq: mark })).length > 0, { timeoutMs: 30_000, what: 'the activation poll' });

		const now = await emulatorNow(emulator);
		const added = (await emulator.control<{ value: Array<{ id: string }> }>('POST', `/tenants/${tenantId}/alerts`, [{ alertCreationTime: now, title: 'compat A' }, { alertCreationTime: now, title: 'compat B' }])).value.map((a) => a.id);
		const delivered = await waitFor(
			async () => {
				const ids = (await getExecutions(n8n, workflowId)).filter((e) => e.status === 'success').flatMap((e) => triggerItems(e, TRIGGER).map((i) => String(i.id)));
				return added.every((id) => ids.includes(id)) ? ids : undefined;
			},
			{ timeoutMs: 120_000, intervalMs: 2000, what: 'an execution with the added alerts' },
		);
		expect(delivered.filter((id) => added.includes(id)).sort()).toEqual([...added].sort());
	});
});
