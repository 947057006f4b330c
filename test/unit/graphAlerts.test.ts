/** core/graphAlerts: enum mapping both ways, the Graph $filter of a structured query, Simplify fields, related entities. */
import {
	ALERT_STATUSES,
	ALL_DETERMINATIONS,
	CLASSIFICATIONS,
	DETECTION_SOURCES,
	SEVERITIES,
} from '../../nodes/MicrosoftDefenderForEndpoint/helpers/enums';
import {
	assertDefenderCanFilter,
	defenderFieldsOfGraphAlert,
	DETECTION_SOURCE_TO_GRAPH,
	fromGraphEnum,
	GRAPH_DETERMINATION_ALTERNATES,
	graphAlertShows,
	graphFilterPlan,
	graphOrderBy,
	graphPatchBody,
	isGraphAlert,
	QueryNotSupportedError,
	readGraphListRefusal,
	relatedFromGraphEvidence,
	stableAlertId,
	toGraphEnum,
} from '../../nodes/MicrosoftDefenderForEndpoint/core/graphAlerts';
import { buildAlertFilter } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/odata';
import { simplifyAlert, SIMPLE_FIELDS } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/output';

describe('enum mapping', () => {
	it('every documented status, severity and classification round-trips', () => {
		for (const v of ALERT_STATUSES) expect(fromGraphEnum('status', toGraphEnum('status', v))).toBe(v);
		for (const v of SEVERITIES) expect(fromGraphEnum('severity', toGraphEnum('severity', v))).toBe(v);
		for (const v of CLASSIFICATIONS) expect(fromGraphEnum('classification', toGraphEnum('classification', v))).toBe(v);
		expect(toGraphEnum('status', 'InProgress')).toBe('inProgress');
		expect(toGraphEnum('severity', 'UnSpecified')).toBe('unknown');
	});

	it('determinations: both Defender spellings go to the SDK name; both Graph spellings come back', () => {
		for (const v of ALL_DETERMINATIONS) expect(toGraphEnum('determination', v)).toMatch(/^[a-z][A-Za-z]+$/);
		expect(toGraphEnum('determination', 'NotMalicious')).toBe('clean');
		expect(toGraphEnum('determination', 'Clean')).toBe('clean');
		expect(toGraphEnum('determination', 'ConfirmedActivity')).toBe('confirmedUserActivity');
		expect(fromGraphEnum('determination', 'clean')).toBe('Clean');
		expect(fromGraphEnum('determination', 'notMalicious')).toBe('NotMalicious');
		expect(fromGraphEnum('determination', 'notEnoughDataToValidate')).toBe('InsufficientData');
		expect(fromGraphEnum('determination', 'compromisedAccount')).toBe('CompromisedUser');
		expect(GRAPH_DETERMINATION_ALTERNATES.clean).toBe('notMalicious');
	});

	it('Graph "unknown" classification/determination is Defender null; unknown values pass through instead of failing', () => {
		expect(fromGraphEnum('classification', 'unknown')).toBeNull();
		expect(fromGraphEnum('determination', 'unknown')).toBeNull();
		expect(fromGraphEnum('status', 'unknownFutureValue')).toBe('unknownFutureValue');
		expect(fromGraphEnum('status', 'awaitingAction')).toBe('AwaitingAction');
		expect(fromGraphEnum('detectionSource', 'microsoftDefenderForServers')).toBe('microsoftDefenderForServers');
		expect(toGraphEnum('status', 'SomethingNew')).toBe('somethingNew');
		expect(fromGraphEnum('determination', 'apt')).toBe('Apt');
	});

	it('detection sources seen on the Defender API map to Graph members (ThirdPartySensors has none)', () => {
		for (const v of DETECTION_SOURCES) {
			if (v === 'ThirdPartySensors') expect(DETECTION_SOURCE_TO_GRAPH[v]).toBeUndefined();
			else expect(fromGraphEnum('detectionSource', toGraphEnum('detectionSource', v))).toBe(v);
		}
	});
});

describe('graphFilterPlan: the structured query as a Graph $filter', () => {
	it('documented filters, with the default serviceSource of Defender for Endpoint', () => {
		const plan = graphFilterPlan({
			status: ['New', 'InProgress'],
			severity: ['High'],
			classification: ['TruePositive'],
			determination: ['Clean', 'NotMalicious'],
			assignedTo: "o'brien@contoso.com",
			createdAfter: '2026-11-01T00:00:00.0000000Z',
			createdBefore: '2026-12-01T00:00:00.0000000Z',
			updatedAfter: '2026-11-15T00:00:00.0000000Z',
		});
		expect(plan.filter).toBe(
			"(status eq 'new' or status eq 'inProgress') and severity eq 'high' and classification eq 'truePositive' and determination eq 'clean' and assignedTo eq 'o''brien@contoso.com' and serviceSource eq 'microsoftDefenderForEndpoint' and createdDateTime ge 2026-11-01T00:00:00.0000000Z and createdDateTime lt 2026-12-01T00:00:00.0000000Z and lastUpdateDateTime ge 2026-11-15T00:00:00.0000000Z",
		);
		expect(plan.optional).toEqual([]);
		expect(plan.documentedFilter).toBe(plan.filter);
	});

	it('all Defender XDR sources: no serviceSource clause; one other source: its clause', () => {
		expect(graphFilterPlan({ serviceSource: 'all' }).filter).toBeUndefined();
		expect(graphFilterPlan({ serviceSource: 'microsoftDefenderForIdentity' }).filter).toBe("serviceSource eq 'microsoftDefenderForIdentity'");
	});

	it('undocumented filter properties are optional clauses with an exact local test', () => {
		const plan = graphFilterPlan({ category: ['Execution'], incidentId: 42, detectionSource: ['WindowsDefenderAv', 'MTP'] });
		expect(plan.documentedFilter).toBe("serviceSource eq 'microsoftDefenderForEndpoint'");
		expect(plan.optional.map((o) => o.clause)).toEqual(["(detectionSource eq 'antivirus' or detectionSource eq 'microsoft365Defender')", "category eq 'Execution'", "incidentId eq '42'"]);
		const [ds, cat, inc] = plan.optional;
		expect(ds.test({ detectionSource: 'antivirus' })).toBe(true);
		expect(ds.test({ detectionSource: 'smartScreen' })).toBe(false);
		expect(cat.test({ category: 'Execution' })).toBe(true);
		expect(inc.test({ incidentId: '42' })).toBe(true);
		expect(inc.test({ incidentId: '421' })).toBe(false);
	});

	it.each([
		[{ raw: "status eq 'New'" }, /Raw OData Filter/, 'rawFilter'],
		[{ investigationId: 7 }, /Investigation ID/, 'investigationId'],
		[{ detectionSource: ['ThirdPartySensors'] }, /"ThirdPartySensors" has no Microsoft Graph equivalent/, 'detectionSource'],
	])('Defender-only filter %p: a clear error naming the Defender API option', (where, message, field) => {
		let error: unknown;
		try {
			graphFilterPlan(where);
		} catch (e) {
			error = e;
		}
		expect(error).toBeInstanceOf(QueryNotSupportedError);
		expect((error as QueryNotSupportedError).message).toMatch(message);
		expect((error as QueryNotSupportedError).hint).toMatch(/Alerts API to Defender for Endpoint API/);
		expect((error as QueryNotSupportedError).field).toBe(field);
	});

	it('the Defender API refuses Graph-only filters by name; the default service source is fine', () => {
		expect(() => assertDefenderCanFilter({ classification: ['TruePositive'] })).toThrow(/Classification is a Microsoft Graph filter/);
		expect(() => assertDefenderCanFilter({ determination: ['Malware'] })).toThrow(/Determination/);
		expect(() => assertDefenderCanFilter({ serviceSource: 'all' })).toThrow(/Service Source/);
		expect(() => assertDefenderCanFilter({ serviceSource: 'microsoftDefenderForEndpoint', status: ['New'] })).not.toThrow();
		// the Defender rendering of the same structured query is today's builder, unchanged
		expect(buildAlertFilter({ status: ['New'], createdAfter: '2026-11-01T00:00:00.0000000Z' })).toBe("status eq 'New' and alertCreationTime ge 2026-11-01T00:00:00.0000000Z");
	});

	it('orderBy fields are mapped', () => {
		expect(graphOrderBy('alertCreationTime desc')).toBe('createdDateTime desc');
		expect(graphOrderBy('lastUpdateTime asc')).toBe('lastUpdateDateTime asc');
		expect(graphOrderBy(undefined)).toBeUndefined();
	});
});

const graphAlert = {
	'@odata.type': '#microsoft.graph.security.alert',
	id: 'da637578995287051192_756343937',
	providerAlertId: 'da637578995287051192_756343937',
	incidentId: '28282',
	status: 'inProgress',
	severity: 'low',
	classification: 'truePositive',
	determination: 'malware',
	serviceSource: 'microsoftDefenderForEndpoint',
	detectionSource: 'antivirus',
	tenantId: 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c',
	title: 'Suspicious execution of hidden file',
	category: 'DefenseEvasion',
	assignedTo: 'secop@contoso.com',
	mitreTechniques: ['T1564.001'],
	createdDateTime: '2021-04-27T12:19:27.7211305Z',
	lastUpdateDateTime: '2021-05-02T14:19:01.3266667Z',
	comments: [],
	evidence: [
		{ '@odata.type': '#microsoft.graph.security.deviceEvidence', mdeDeviceId: '73e7e2de709dff64ef64b1d0c30e67fab63279db', deviceDnsName: 'tempDns', osPlatform: 'Windows10', ipInterfaces: ['1.1.1.1'], tags: ['Test Machine'] },
		{ '@odata.type': '#microsoft.graph.security.userEvidence', userAccount: { accountName: 'jdoe', domainName: 'CONTOSO', userSid: 'S-1-5-21-1', azureAdUserId: null, userPrincipalName: 'jdoe@contoso.com' } },
		{ '@odata.type': '#microsoft.graph.security.fileEvidence', fileDetails: { sha1: 'aa', sha256: 'bb', fileName: 'x.exe', filePath: 'C:\\t' } },
		{ '@odata.type': '#microsoft.graph.security.processEvidence', imageFile: { sha1: 'aa', sha256: 'bb', fileName: 'x.exe', filePath: 'C:\\t' }, userAccount: { accountName: 'SYSTEM' } },
		{ '@odata.type': '#microsoft.graph.security.processEvidence', imageFile: { sha1: 'cc', sha256: 'dd', fileName: 'y.exe', filePath: 'C:\\u' } },
		{ '@odata.type': '#microsoft.graph.security.ipEvidence', ipAddress: '203.0.113.7' },
		{ '@odata.type': '#microsoft.graph.security.ipEvidence', ipAddress: '203.0.113.7' },
		{ '@odata.type': '#microsoft.graph.security.urlEvidence', url: 'https://evil.example.net/payload?x=1' },
	],
};

describe('Graph alerts in the package vocabulary', () => {
	it('Simplify gives today\'s keys and spellings for a Graph alert', () => {
		expect(isGraphAlert(graphAlert)).toBe(true);
		const simple = simplifyAlert({ ...graphAlert, portalUrl: 'p', tenantId: 't', dedupKey: 'd' });
		expect(Object.keys(simple)).toEqual([...SIMPLE_FIELDS]);
		expect(simple).toMatchObject({
			id: 'da637578995287051192_756343937',
			severity: 'Low',
			status: 'InProgress',
			classification: 'TruePositive',
			determination: 'Malware',
			detectionSource: 'WindowsDefenderAv',
			alertCreationTime: '2021-04-27T12:19:27.7211305Z',
			lastUpdateTime: '2021-05-02T14:19:01.3266667Z',
			computerDnsName: 'tempDns',
			machineId: '73e7e2de709dff64ef64b1d0c30e67fab63279db',
			relatedUser: 'CONTOSO\\jdoe',
			incidentId: 28282,
			mitreTechniques: ['T1564.001'],
		});
	});

	it('an unset Graph classification is null, as on the Defender API; a missing device or user is null', () => {
		const f = defenderFieldsOfGraphAlert({ ...graphAlert, classification: 'unknown', determination: 'unknown', evidence: [] });
		expect([f.classification, f.determination, f.computerDnsName, f.machineId, f.relatedUser]).toEqual([null, null, null, null, null]);
	});

	it('stableAlertId: the Defender id (providerAlertId) for Defender for Endpoint alerts, else the Graph id', () => {
		expect(stableAlertId({ ...graphAlert, id: 'gr_x' })).toBe('da637578995287051192_756343937');
		expect(stableAlertId({ ...graphAlert, id: 'fa123', providerAlertId: 'p1', serviceSource: 'microsoftDefenderForOffice365' })).toBe('fa123');
		expect(stableAlertId({ id: 'da1_2', alertCreationTime: 'x', providerAlertId: 'zzz' })).toBe('da1_2');
	});

	it('related entities from the typed evidence, de-duplicated', () => {
		expect(relatedFromGraphEvidence(graphAlert, 'domains')).toEqual([{ host: 'evil.example.net' }]);
		expect(relatedFromGraphEvidence(graphAlert, 'ips')).toEqual([{ id: '203.0.113.7' }]);
		expect((relatedFromGraphEvidence(graphAlert, 'files') as Array<{ sha1: string }>).map((f) => f.sha1)).toEqual(['aa', 'cc']);
		expect(relatedFromGraphEvidence(graphAlert, 'machine')).toMatchObject({ id: '73e7e2de709dff64ef64b1d0c30e67fab63279db', computerDnsName: 'tempDns', lastIpAddress: '1.1.1.1', machineTags: ['Test Machine'] });
		expect(relatedFromGraphEvidence(graphAlert, 'user')).toMatchObject({ id: 'contoso\\jdoe', accountName: 'jdoe', accountDomain: 'contoso', accountSid: 'S-1-5-21-1' });
		expect(relatedFromGraphEvidence({ ...graphAlert, evidence: [] }, 'machine')).toBeNull();
		expect(relatedFromGraphEvidence({ ...graphAlert, evidence: [] }, 'user')).toBeNull();
	});

	it('patch bodies are camelCase; a comment is not part of the PATCH', () => {
		expect(graphPatchBody({ status: 'Resolved', classification: 'FalsePositive', determination: 'NotMalicious', assignedTo: 'a@b.c' })).toEqual({
			status: 'resolved',
			classification: 'falsePositive',
			determination: 'clean',
			assignedTo: 'a@b.c',
		});
		expect(graphPatchBody({ comment: 'x' } as never)).toEqual({});
		expect(graphAlertShows({ ...graphAlert, status: 'resolved', determination: 'notMalicious' }, { status: 'Resolved', determination: 'Clean' })).toBe(true);
		expect(graphAlertShows(graphAlert, { status: 'Resolved' })).toBe(false);
	});
});

describe('readGraphListRefusal: what a Graph 400 to a list request refused', () => {
	test('the page limit it names, $orderby, and the properties it names', () => {
		const top = readGraphListRefusal("The limit of '50' for Top query has been exceeded. The value from the incoming request is '2000'.");
		expect([top.topLimit, top.orderBy]).toEqual([50, false]);
		const order = readGraphListRefusal('The query specified in the URI is not valid. $orderby is not supported on alerts_v2.');
		expect([order.topLimit, order.orderBy]).toEqual([undefined, true]);
		const property = readGraphListRefusal("Invalid filter clause: Could not find a property named 'Category' on type 'microsoft.graph.security.alert'.");
		expect([property.mentions('category'), property.mentions('incidentId'), property.orderBy]).toEqual([true, false, false]);
		expect(readGraphListRefusal("The limit of '0' for Top query").topLimit).toBeUndefined();
	});
});
