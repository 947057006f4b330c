/**
 * One owner per fact, for Microsoft Graph: core/clouds owns the Graph host and scope of every cloud; the credential
 * test request (an n8n expression), the audience checks (core/audience) and the credential form derive from it.
 * These tests check that the derived forms agree (like facts.test.ts does for the Defender API).
 */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { MicrosoftDefenderForEndpointApi } from '../../credentials/MicrosoftDefenderForEndpointApi.credentials';
import { audienceMatchesScope, isDefenderResource, isGraphResource, otherApiName, scopeResource, wrongAudienceForScope } from '../../nodes/MicrosoftDefenderForEndpoint/core/audience';
import {
	API_LABELS,
	apiBaseUrlExpression,
	apiEndpoint,
	CloudConfigError,
	fixedClouds,
	GRAPH_ALERTS_PATH,
	resolveCloud,
	testPathExpression,
} from '../../nodes/MicrosoftDefenderForEndpoint/core/clouds';
import { apiScope, CredentialInputError, readCredential, tokenTarget } from '../../nodes/MicrosoftDefenderForEndpoint/core/credentials';
import { GRAPH_PERMISSIONS, needsFor, permissionsTable } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/permissions';

function evaluate(expression: string, credentials: Record<string, unknown>): unknown {
	const match = /^=\{\{([\s\S]*)\}\}$/.exec(expression);
	if (!match) throw new Error(`not an n8n expression: ${expression}`);
	return new Function('$credentials', `return (${match[1]});`)(credentials);
}

const credential = new MicrosoftDefenderForEndpointApi();
const byName = (name: string) => credential.properties.find((p) => p.name === name) as INodeProperties;
const base = { tenantId: '11111111-2222-3333-4444-555555555555', clientId: '5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f', clientSecret: 'Abc8Q~secret-value-for-tests' };

describe('Microsoft Graph per cloud (core/clouds is the owner)', () => {
	const expected: Record<string, string> = {
		commercial: 'https://graph.microsoft.com',
		gcc: 'https://graph.microsoft.com',
		gccHigh: 'https://graph.microsoft.us',
		dod: 'https://dod-graph.microsoft.us',
	};

	it('every fixed cloud has the documented Graph host and the scope <host>/.default', () => {
		for (const c of fixedClouds()) {
			expect([c.cloud, c.graphBaseUrl, c.graphScope]).toEqual([c.cloud, expected[c.cloud], `${expected[c.cloud]}/.default`]);
			const resolved = resolveCloud({ cloud: c.cloud });
			expect([resolved.graphBaseUrl, resolved.graphScope]).toEqual([c.graphBaseUrl, c.graphScope]);
		}
	});

	it('the credential test request goes to the Alerts API of the credential, for every cloud (the expression equals resolveCloud)', () => {
		const baseUrl = credential.test.request.baseURL as string;
		const url = credential.test.request.url as string;
		expect(baseUrl).toBe(apiBaseUrlExpression());
		expect(url).toBe(testPathExpression());
		for (const { cloud } of fixedClouds()) {
			const r = resolveCloud({ cloud });
			expect([cloud, evaluate(baseUrl, { cloud, alertsApi: 'graph' })]).toEqual([cloud, r.graphBaseUrl]);
			expect([cloud, evaluate(baseUrl, { cloud, alertsApi: 'defender' })]).toEqual([cloud, r.apiBaseUrl]);
			// saved credentials have no alertsApi: the Defender API, as before
			expect([cloud, evaluate(baseUrl, { cloud })]).toEqual([cloud, r.apiBaseUrl]);
		}
		expect(evaluate(url, { alertsApi: 'graph' })).toBe(GRAPH_ALERTS_PATH);
		expect(evaluate(url, { alertsApi: 'defender' })).toBe('/api/alerts');
		expect(evaluate(url, {})).toBe('/api/alerts');
	});

	it('… and for custom clouds, with the same trimming of a trailing slash and /v1.0', () => {
		for (const graphBaseUrl of ['https://graph.example.com', 'https://graph.example.com/', ' https://graph.example.com/v1.0 ', 'https://h.example/x/v1.0/']) {
			const settings = { cloud: 'custom', authorityHost: 'https://login.example.com', apiBaseUrl: 'https://api.example.com', graphBaseUrl, alertsApi: 'graph' };
			expect(evaluate(credential.test.request.baseURL as string, settings)).toBe(resolveCloud(settings).graphBaseUrl);
		}
	});

	it('the Graph scope of every cloud is recognised as Microsoft Graph, and a Graph token matches only its own scope', () => {
		for (const c of fixedClouds()) {
			const resource = scopeResource(c.graphScope);
			expect(isGraphResource(resource)).toBe(true);
			expect(otherApiName(resource)).toBe('Microsoft Graph');
			expect(isDefenderResource(resource)).toBe(false);
			expect(audienceMatchesScope(resource, c.graphScope)).toBe(true);
			expect(audienceMatchesScope(resource, c.scope)).toBe(false);
			// the Graph app id as aud matches a Graph scope, never a Defender one
			expect(audienceMatchesScope('00000003-0000-0000-c000-000000000000', c.graphScope)).toBe(true);
			expect(audienceMatchesScope('00000003-0000-0000-c000-000000000000', c.scope)).toBe(false);
			// a Defender token on Graph, and a Graph token on Defender, are wrong audiences before anything is sent
			expect(wrongAudienceForScope(scopeResource(c.scope), c.graphScope)?.api).toBe('Defender for Endpoint');
			expect(wrongAudienceForScope(resource, c.scope)?.api).toBe('Microsoft Graph');
			expect(wrongAudienceForScope(resource, c.graphScope)).toBeUndefined();
		}
		expect(wrongAudienceForScope('https://graph.microsoft.us', 'https://graph.microsoft.com/.default')?.api).toBe('Microsoft Graph of another cloud');
	});

	it('apiEndpoint: Graph ignores a region (with a hint), the Defender API keeps its region rules', () => {
		const commercial = resolveCloud({ cloud: 'commercial' });
		expect(apiEndpoint(commercial, 'graph', 'eu')).toEqual({ api: 'graph', baseUrl: 'https://graph.microsoft.com', pathPrefix: '/v1.0', scope: 'https://graph.microsoft.com/.default', region: 'global', ignoredRegion: 'eu' });
		expect(apiEndpoint(commercial, 'graph', 'global').ignoredRegion).toBeUndefined();
		expect(apiEndpoint(commercial, 'defender', 'eu')).toMatchObject({ api: 'defender', baseUrl: 'https://eu.api.security.microsoft.com', pathPrefix: '/api' });
		const gov = resolveCloud({ cloud: 'gccHigh' });
		expect(apiEndpoint(gov, 'graph', 'eu')).toMatchObject({ baseUrl: 'https://graph.microsoft.us', ignoredRegion: 'eu' });
		expect(() => apiEndpoint(gov, 'defender', 'eu')).toThrow(CloudConfigError);
		const custom = resolveCloud({ cloud: 'custom', authorityHost: 'https://login.example.com', apiBaseUrl: 'https://api.example.com' });
		expect(() => apiEndpoint(custom, 'graph', undefined)).toThrow(/Graph Base URL is empty/);
		const customGraph = resolveCloud({ cloud: 'custom', authorityHost: 'https://login.example.com', apiBaseUrl: 'https://api.example.com', graphBaseUrl: 'https://graph.example.com/v1.0' });
		expect([customGraph.graphBaseUrl, customGraph.graphScope]).toEqual(['https://graph.example.com', 'https://graph.example.com/.default']);
	});
});

describe('the credential: Alerts API', () => {
	it('has the field with both APIs, Defender for Endpoint API the default (saved credentials have no value for it)', () => {
		const field = byName('alertsApi');
		expect(field.default).toBe('defender');
		expect((field.options as INodePropertyOptions[]).map((o) => [o.value, o.name])).toEqual([
			['defender', API_LABELS.defender],
			['graph', API_LABELS.graph],
		]);
		expect(readCredential({ cloud: 'commercial', ...base }).alertsApi).toBe('defender');
		expect(readCredential({ cloud: 'commercial', ...base, alertsApi: 'graph' }).alertsApi).toBe('graph');
	});

	it('tokens stay one per scope: the Graph scope for Graph, the Defender scope otherwise, the same app identity', () => {
		const c = readCredential({ cloud: 'gccHigh', ...base, alertsApi: 'graph' });
		expect(apiScope(c, 'graph')).toBe('https://graph.microsoft.us/.default');
		expect(apiScope(c, 'defender')).toBe('https://api-gov.securitycenter.microsoft.us/.default');
		const g = tokenTarget(c, c.tenantId, apiScope(c, 'graph'));
		const d = tokenTarget(c, c.tenantId, apiScope(c, 'defender'));
		expect({ ...g, scope: undefined }).toEqual({ ...d, scope: undefined });
		expect(g.scope).not.toBe(d.scope);
	});

	it('a custom cloud needs a Graph Base URL for the Graph Security API; an unknown Alerts API is refused', () => {
		const custom = { cloud: 'custom', authorityHost: 'https://login.example.com', apiBaseUrl: 'https://api.example.com', ...base };
		expect(() => readCredential({ ...custom, alertsApi: 'graph' })).toThrow(CredentialInputError);
		expect(() => readCredential({ ...custom, alertsApi: 'graph' })).toThrow(/Graph Base URL is empty/);
		expect(readCredential({ ...custom, alertsApi: 'graph', graphBaseUrl: 'https://graph.example.com', graphScope: 'https://graph.microsoft.com/.default' }).endpoints.graphScope).toBe(
			'https://graph.microsoft.com/.default',
		);
		expect(() => readCredential({ cloud: 'commercial', ...base, alertsApi: 'incidents' })).toThrow(/Alerts API is not a known API/);
	});

	it('the Graph option names the Graph permissions; the (short) consent notices say every customer must consent again', () => {
		const graph = ((credential.properties.find((p) => p.name === 'alertsApi')!.options ?? []) as Array<{ value: string; description?: string }>).find((o) => o.value === 'graph')!;
		expect(graph.description).toContain('SecurityAlert.Read.All');
		expect(graph.description).toContain('SecurityAlert.ReadWrite.All');
		expect(graph.description).toMatch(/consented again by every customer/);
		for (const notice of credential.properties.filter((p) => p.type === 'notice')) {
			expect(notice.displayName).toMatch(/consent again/);
		}
	});
});

describe('permissions: one table with an API column', () => {
	it('lists the Graph permissions (alerts now, incidents and hunting for later) beside the WindowsDefenderATP ones', () => {
		const table = permissionsTable();
		const graph = table.filter((r) => r.api === 'Microsoft Graph').map((r) => r.permission);
		expect(graph).toEqual(['SecurityAlert.ReadWrite.All', 'SecurityAlert.Read.All', 'SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All', 'ThreatHunting.Read.All']);
		expect(table.filter((r) => r.api === 'WindowsDefenderATP').map((r) => r.permission)).toContain('Alert.ReadWrite.All');
		expect(GRAPH_PERMISSIONS.filter((p) => p.required).map((p) => p.permission)).toEqual(['SecurityAlert.ReadWrite.All']);
	});

	it('Graph rows cover every alert operation except Create by Reference, with Graph permissions only', () => {
		const rows = needsFor('graph').filter((r) => r.operation.startsWith('alert.'));
		expect(rows.map((r) => r.operation).sort()).toEqual(['alert.addComment', 'alert.get', 'alert.getAll', 'alert.getRelated', 'alert.update', 'alert.updateMany']);
		for (const r of rows) for (const role of r.anyOf) expect(role).toMatch(/^SecurityAlert\./);
		// incidents: Microsoft Graph only, SecurityIncident permissions (read: either; writes: ReadWrite)
		const incidents = needsFor('graph').filter((r) => r.operation.startsWith('incident.'));
		expect(incidents.map((r) => [r.operation, r.anyOf])).toEqual([
			['incident.getAll', ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All']],
			['incident.get', ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All']],
			['incident.update', ['SecurityIncident.ReadWrite.All']],
			['incident.addComment', ['SecurityIncident.ReadWrite.All']],
		]);
		// advanced hunting: Microsoft Graph only, ThreatHunting.Read.All
		expect(needsFor('graph').filter((r) => r.operation.startsWith('hunting.')).map((r) => [r.operation, r.anyOf])).toEqual([['hunting.runQuery', ['ThreatHunting.Read.All']]]);
		// the Defender rows (with the other engineers' machine and indicator rows) have no Graph permission
		for (const r of needsFor('defender')) for (const role of r.anyOf) expect(role).not.toMatch(/^Security/);
	});
});
