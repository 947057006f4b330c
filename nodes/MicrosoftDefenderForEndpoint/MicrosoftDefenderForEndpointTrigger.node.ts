import {
	type IDataObject,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	type IPollFunctions,
	type JsonObject,
	NodeApiError,
	NodeConnectionTypes,
	NodeOperationError,
} from 'n8n-workflow';

import { decorateIncident } from './actions/incident/common';
import { alertsApiOf, backendFor } from './backend';
import { incidentBackendFor } from './backend/incidents';
import type { AlertBackend, AlertRecord } from './backend/types';
import { QueryNotSupportedError } from './core/graphAlerts';
import { simplifyIncidentRecord } from './core/graphIncidents';
import { decorateAlertFields, outputTenantId, simplifyAlert } from './helpers/output';
import { validateRegion } from './helpers/validation';
import { failureFacts, openSession } from './transport/request';
import { NODE_DESCRIPTION } from './descriptions/common';
import { properties, TRIGGER_DEFAULT_VERSION, TRIGGER_VERSIONS } from './trigger/description';
import { runTriggerPoll, StateRecoveryError, type TenantApi, type TenantFailure, writeTriggerState } from './trigger/orchestrator.pure';
import { GraphStreamError, graphStreamApi, splitTriggerWhere } from './trigger/graphStream.pure';
import { INCIDENT_PAGE_SIZE, INCIDENT_STATE_KEY, incidentStreamApi } from './trigger/incidentStream.pure';
import { pollKey } from './trigger/pollLock.pure';
import type { Emitted, EventKind } from './trigger/poller';
import { clockProbes, graphOrder, pollLocks, primedStarts, serverClock } from './trigger/processMemory';
import { staleLockMs } from './trigger/schedule.pure';
import { readTriggerSettings, type SampleSettings } from './trigger/settings';
import type { InvalidTenantEntry, TenantEntry } from './trigger/tenants';

/** An alert as the trigger outputs it: the alert, event, then the same portalUrl/tenantId/dedupKey/label as Get. */
function alertItem(kind: EventKind, alert: AlertRecord, api: TenantApi, tenant: TenantEntry, watch?: Emitted): INodeExecutionData {
	// On Microsoft Graph the poller sees a view of the alert (trigger/graphStream.pure.ts); the output is the API's record.
	const raw = api.rawOf?.(alert) ?? alert;
	const out: AlertRecord = { ...raw, event: kind === 'created' ? 'newAlert' : 'updatedAlert' };
	const json = decorateAlertFields(out, { tenantId: outputTenantId(api, raw), portalUrl: api.portalUrl(alert.id), customerLabel: tenant.label || undefined });
	if (watch?.changedFields) Object.assign(json, { changedFields: watch.changedFields, previous: watch.previous ?? {}, previousKnown: watch.previousKnown ?? false });
	return { json };
}

/** An incident as the trigger outputs it: Graph's incident, event, then the same portalUrl/tenantId/dedupKey/label as Get. */
function incidentItem(kind: EventKind, view: AlertRecord, api: TenantApi, tenant: TenantEntry): INodeExecutionData {
	const raw = api.rawOf?.(view) ?? view;
	const out = { ...raw, event: kind === 'created' ? 'newIncident' : 'updatedIncident' } as AlertRecord;
	return { json: decorateIncident(out, { tenantId: api.tenantId, portalUrl: (id) => api.portalUrl(id) }, { customerLabel: tenant.label || undefined }) };
}

function itemFor(settings: SampleSettings, record: AlertRecord, api: TenantApi, tenant: TenantEntry, watch?: Emitted): INodeExecutionData {
	const item = settings.subject === 'incident' ? incidentItem(settings.kind, record, api, tenant) : alertItem(settings.kind, record, api, tenant, watch);
	if (!settings.simplify) return item;
	// Simplify: the action node's ticket-ready fields, then what the trigger adds (event, and the watched changes)
	const json = item.json;
	const simple = (settings.subject === 'incident' ? simplifyIncidentRecord(json) : simplifyAlert(json)) as IDataObject;
	for (const key of ['event', 'changedFields', 'previous', 'previousKnown']) if (json[key] !== undefined) simple[key] = json[key];
	return { json: simple };
}

function failureItem(failure: TenantFailure): INodeExecutionData {
	const facts = failureFacts(failure.error);
	const recovery = failure.error instanceof StateRecoveryError ? failure.error : undefined;
	return {
		json: {
			tenantId: failure.tenantId || null,
			customerLabel: failure.tenant.label ?? null,
			error: facts.message,
			description: recovery?.description ?? facts.description ?? null,
			httpCode: facts.httpCode ?? null,
			retryAfterSeconds: facts.retryAfterMs !== undefined ? Math.ceil(facts.retryAfterMs / 1000) : null,
			alertsEmitted: failure.alertsEmitted,
			...(recovery ? { resumedFrom: recovery.resumedFrom || null } : {}),
		},
	};
}

/** A Tenants entry that is not a tenant: reported on every poll (the entry is named only when it cannot be a secret). */
function invalidTenantItem(entry: InvalidTenantEntry): INodeExecutionData {
	return {
		json: {
			tenantId: null,
			customerLabel: entry.label ?? null,
			error: entry.message,
			description: `${entry.hint ? `${entry.hint} ` : ''}This entry is skipped on every poll; the other tenants are polled.`,
			httpCode: null,
			retryAfterSeconds: null,
			alertsEmitted: 0,
		},
	};
}

function mainOutput(settings: SampleSettings, items: INodeExecutionData[]): INodeExecutionData[] {
	const key = settings.subject === 'incident' ? 'incidents' : 'alerts';
	return settings.outputMode === 'single' && items.length > 0 ? [{ json: { [key]: items.map((a) => a.json), count: items.length } }] : items;
}

/** "Fetch test event": the newest matching alert of each tenant (up to 3 tenants); static data untouched. */
async function sample(ctx: IPollFunctions, settings: SampleSettings): Promise<INodeExecutionData[][]> {
	if (settings.tenants.length === 0 && settings.invalidTenants.length > 0) {
		const first = settings.invalidTenants[0];
		throw new NodeOperationError(ctx.getNode(), first.message, { description: first.hint });
	}
	const samples: INodeExecutionData[] = [];
	const field = settings.kind === 'created' ? 'alertCreationTime' : 'lastUpdateTime';
	for (const tenant of settings.tenants.slice(0, 3)) {
		const api = await openTenantApi(ctx, settings, tenant, 30_000);
		const alerts = await api.listAlerts({ filter: settings.serverFilter, top: 1, orderBy: `${field} desc`, expandEvidence: settings.includeEvidence });
		for (const alert of alerts) if (api.deliver?.(alert) ?? true) samples.push(itemFor(settings, alert, api, tenant));
	}
	if (samples.length === 0) {
		const what = settings.subject === 'incident' ? 'incident' : 'alert';
		throw new NodeOperationError(ctx.getNode(), `No ${what} matches the filters yet, so there is no sample to show`, {
			description: `The credential and filters work. Widen the filters, or activate the workflow and wait for the next ${what}.`,
			level: 'warning',
		});
	}
	return [mainOutput(settings, samples), settings.invalidTenants.map(invalidTenantItem)];
}

/**
 * A backend as the orchestrator sees it: the tenant's GUID comes from its (cached) token, no extra request. On
 * Microsoft Graph, the stream view of trigger/graphStream.pure.ts (same poller, Graph's fields and filters).
 */
function tenantApi(backend: AlertBackend, settings: SampleSettings, apiOrigin?: string): TenantApi {
	if (backend.name === 'graph') {
		return graphStreamApi(backend, settings.serverWhere, {
			tenantGuid: async () => (await backend.tokenInfo()).tenantId,
			order: apiOrigin ? graphOrder.memory(apiOrigin) : undefined,
		});
	}
	return {
		tenantId: backend.tenantId,
		listAlerts: async (query) => await backend.listAlerts(query),
		portalUrl: (id) => backend.portalUrl(id),
		tenantGuid: async () => (await backend.tokenInfo()).tenantId,
	};
}

/** A filter Microsoft Graph cannot apply stops the poll before any request (as Get Many does). */
function assertGraphCanFilter(ctx: IPollFunctions, settings: SampleSettings): void {
	try {
		splitTriggerWhere(settings.serverWhere);
	} catch (error) {
		if (error instanceof QueryNotSupportedError) throw new NodeOperationError(ctx.getNode(), error.message, { description: error.hint });
		throw new NodeOperationError(ctx.getNode(), error as Error);
	}
}

/** A tenant's stream source: its alerts (the credential's Alerts API) or its incidents (always Microsoft Graph). */
async function openTenantApi(ctx: IPollFunctions, settings: SampleSettings, tenant: TenantEntry, maxThrottleWaitMs: number, apiOrigin?: string): Promise<TenantApi> {
	if (settings.subject === 'incident') {
		const backend = await incidentBackendFor(ctx, { customerTenant: tenant.tenantId, region: settings.region, maxThrottleWaitMs });
		return incidentStreamApi(backend, settings.incidentWhere, {
			tenantGuid: async () => (await backend.tokenInfo()).tenantId,
			order: apiOrigin ? graphOrder.memory(`${apiOrigin}#incidents`) : undefined,
		});
	}
	return tenantApi(await backendFor(ctx, { customerTenant: tenant.tenantId, region: settings.region, maxThrottleWaitMs }), settings, apiOrigin);
}

/** The node's static data without the other subject's state (trigger/incidentStream.pure.ts INVARIANTS). */
function alertStateOf(staticData: IDataObject): IDataObject {
	const { [INCIDENT_STATE_KEY]: _incidents, ...rest } = staticData;
	void _incidents;
	return rest;
}

/**
 * n8n's durable poll cursors hand the poll a plain staged copy of its static data; otherwise it is the workflow's
 * observable object (n8n-workflow ObservableObject, which marks itself with a hidden `__dataChanged`).
 */
function isStagedCopy(staticData: object): boolean {
	return !('__dataChanged' in staticData);
}

export class MicrosoftDefenderForEndpointTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Microsoft Defender for Endpoint Trigger',
		name: 'microsoftDefenderForEndpointTrigger',
		icon: { light: 'file:../../icons/defender.svg', dark: 'file:../../icons/defender.dark.svg' },
		group: ['trigger'],
		// 1.1: Start From and its fields are top-level (trigger/description.ts); saved version-1 nodes keep theirs in Options
		version: TRIGGER_VERSIONS,
		defaultVersion: TRIGGER_DEFAULT_VERSION,
		subtitle: '={{ {"updatedAlert": "Updated alerts", "newIncident": "New incidents", "updatedIncident": "Updated incidents"}[$parameter["event"]] || "New alerts" }}',
		// n8n's node creator shows one entry for both nodes with THIS description: it starts with the action node's.
		description: `${NODE_DESCRIPTION}. The trigger starts a workflow on each new or updated alert, exactly once`,
		defaults: { name: 'Microsoft Defender for Endpoint Trigger' },
		credentials: [{ name: 'microsoftDefenderForEndpointApi', required: true }],
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		// short enough for the canvas's output label ("Tenant Failures" was cut off); the docs call it the Tenant Failures output
		outputNames: ['Alerts', 'Failures'],
		properties,
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const settings = readTriggerSettings(this);
		const alertsApi = settings.subject === 'incident' ? 'graph' : await alertsApiOf(this);
		if (alertsApi === 'graph' && settings.subject === 'alert') assertGraphCanFilter(this, settings);
		if (settings.manual) return await sample(this, settings);

		// Overlap guard (trigger/pollLock.pure.ts): one poll of this workflow + node at a time in this process.
		const key = pollKey(this.getWorkflow().id, this.getNode().id);
		const lease = pollLocks.acquire(key, Date.now(), staleLockMs(settings.budgetMs));
		if (!lease) {
			this.logger.debug(`Defender trigger: the previous poll of "${this.getNode().name}" is still running; this one does nothing`);
			return null;
		}
		try {
			const nodeData = this.getWorkflowStaticData('node') as IDataObject;
			// incident events keep their streams under `incidents`, apart from the alert streams
			const incidents = settings.subject === 'incident';
			if (incidents && (typeof nodeData[INCIDENT_STATE_KEY] !== 'object' || nodeData[INCIDENT_STATE_KEY] === null)) nodeData[INCIDENT_STATE_KEY] = {};
			const staticData = incidents ? (nodeData[INCIDENT_STATE_KEY] as IDataObject) : nodeData;
			let apiOrigin: Promise<string | undefined> | undefined;
			const origin = async (): Promise<string | undefined> =>
				await (apiOrigin ??= (async () => {
					try {
						return (alertsApi === 'graph' ? await openSession(this, { api: 'graph' }) : await openSession(this, { region: validateRegion(this.getNode(), undefined, settings.region) })).apiBaseUrl;
					} catch {
						return undefined; // the tenant's own request fails with the proper message
					}
				})());
			const field = settings.kind === 'created' ? 'alertCreationTime' : 'lastUpdateTime';
			// Graph serves at most 50 incidents a page: a page size above it would make a full page look like the last
			const plan = incidents ? { ...settings, pageSize: Math.min(settings.pageSize ?? INCIDENT_PAGE_SIZE, INCIDENT_PAGE_SIZE) } : settings;
			const result = await runTriggerPoll(plan, incidents ? staticData : alertStateOf(staticData), {
				openTenant: async (tenant, maxThrottleWaitMs) => await openTenantApi(this, settings, tenant, maxThrottleWaitMs, await origin()),
				now: () => Date.now(),
				serverNow: async (api) => {
					const url = await origin();
					const known = url ? serverClock.now(url) : undefined;
					if (known !== undefined) return { ms: known, fromApi: true };
					if (api && url) {
						// One small request to learn the API's clock (its Date header), once per API origin and process;
						// tenants and triggers priming at the same time wait for it (trigger/processMemory.ts clockProbes).
						// If it fails, this tenant fails (and a later one asks).
						const ask = async () => await api.listAlerts({ top: 1, orderBy: `${field} desc` });
						const mine = !clockProbes.has(url);
						const shared = mine ? clockProbes.start(url, ask()) : clockProbes.get(url)!;
						const failed = await shared.then(
							() => false,
							() => true,
						);
						if (failed) {
							clockProbes.forget(url, shared);
							if (mine) await shared; // this tenant's own request failed: the tenant fails with its error
							else await ask(); // another tenant's request failed: ask for this one
						}
						const learned = serverClock.now(url);
						if (learned !== undefined) return { ms: learned, fromApi: true };
					}
					return { ms: Date.now(), fromApi: false };
				},
				primed: { get: (s) => primedStarts.get(key, s), set: (s, v) => primedStarts.set(key, s, v), forget: (s) => primedStarts.forget(key, s) },
				stagedState: isStagedCopy(nodeData),
			});
			if (!pollLocks.isCurrent(lease)) {
				// A newer poll took over after this one hung past the stale timeout: it owns the state now.
				this.logger.warn(`Defender trigger: a poll of "${this.getNode().name}" outlived its lock; its result is discarded and the next poll reads again`);
				return null;
			}
			// Static data changes only here, together with what is returned (n8n saves it when items are emitted).
			writeTriggerState(staticData, result.state);

			if (result.fatal) {
				const error = result.fatal.error;
				if (error instanceof NodeApiError || error instanceof NodeOperationError) throw error;
				if (error instanceof GraphStreamError) throw new NodeOperationError(this.getNode(), error.message, { description: error.hint });
				const message = error instanceof Error ? error.message : String(error);
				throw new NodeApiError(this.getNode(), { message } as JsonObject, { message });
			}
			const alerts = result.alerts.map((a) => itemFor(settings, a.emitted.alert, a.api, a.tenant, a.emitted));
			if (result.dropped) {
				// Alerts were fetched before the failure: deliver them now; the next poll retries from there.
				this.logger.warn(`Defender trigger: a page failed after ${alerts.length} alerts were read; continuing next poll: ${failureFacts(result.dropped.error).message}`);
			}
			for (const f of result.failures) {
				if (f.error instanceof StateRecoveryError) this.logger.warn(`Defender trigger "${this.getNode().name}": ${f.error.message}. ${f.error.description}`);
			}
			const failures = [...settings.invalidTenants.map(invalidTenantItem), ...result.failures.map(failureItem)];
			if (alerts.length === 0 && failures.length === 0) {
				// A new boundary n8n would otherwise drop: an (empty) execution makes n8n save or commit it.
				return result.persist ? [[], []] : null;
			}
			return [mainOutput(settings, alerts), failures];
		} finally {
			pollLocks.release(lease);
		}
	}
}
