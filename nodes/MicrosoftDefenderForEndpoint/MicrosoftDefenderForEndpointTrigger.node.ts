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

import { backendFor } from './backend';
import type { AlertBackend, AlertRecord } from './backend/types';
import { decorateAlertFields, outputTenantId } from './helpers/output';
import { validateRegion } from './helpers/validation';
import { failureFacts, openSession } from './transport/request';
import { properties } from './trigger/description';
import { runTriggerPoll, StateRecoveryError, type TenantApi, type TenantFailure, writeTriggerState } from './trigger/orchestrator.pure';
import { pollKey } from './trigger/pollLock.pure';
import type { Emitted, EventKind } from './trigger/poller';
import { pollLocks, primedStarts, serverClock } from './trigger/processMemory';
import { staleLockMs } from './trigger/schedule.pure';
import { readTriggerSettings, type SampleSettings } from './trigger/settings';
import type { InvalidTenantEntry, TenantEntry } from './trigger/tenants';

/** An alert as the trigger outputs it: the alert, event, then the same portalUrl/tenantId/dedupKey/label as Get. */
function alertItem(kind: EventKind, alert: AlertRecord, api: TenantApi, tenant: TenantEntry, watch?: Emitted): INodeExecutionData {
	const out: AlertRecord = { ...alert, event: kind === 'created' ? 'newAlert' : 'updatedAlert' };
	const json = decorateAlertFields(out, { tenantId: outputTenantId(api, alert), portalUrl: api.portalUrl(alert.id), customerLabel: tenant.label || undefined });
	if (watch?.changedFields) Object.assign(json, { changedFields: watch.changedFields, previous: watch.previous ?? {}, previousKnown: watch.previousKnown ?? false });
	return { json };
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
	return settings.outputMode === 'single' && items.length > 0 ? [{ json: { alerts: items.map((a) => a.json), count: items.length } }] : items;
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
		const backend = await backendFor(ctx, { customerTenant: tenant.tenantId, region: settings.region, maxThrottleWaitMs: 30_000 });
		const alerts = await backend.listAlerts({ filter: settings.serverFilter, top: 1, orderBy: `${field} desc`, expandEvidence: settings.includeEvidence });
		for (const alert of alerts) samples.push(alertItem(settings.kind, alert, backend, tenant));
	}
	if (samples.length === 0) {
		throw new NodeOperationError(ctx.getNode(), 'No alert matches the filters yet, so there is no sample to show', {
			description: 'The credential and filters work. Widen the filters, or activate the workflow and wait for the next alert.',
			level: 'warning',
		});
	}
	return [mainOutput(settings, samples), settings.invalidTenants.map(invalidTenantItem)];
}

/** A backend as the orchestrator sees it: the tenant's GUID comes from its (cached) token, no extra request. */
function tenantApi(backend: AlertBackend): TenantApi {
	return {
		tenantId: backend.tenantId,
		listAlerts: async (query) => await backend.listAlerts(query),
		portalUrl: (id) => backend.portalUrl(id),
		tenantGuid: async () => (await backend.tokenInfo()).tenantId,
	};
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
		version: 1,
		subtitle: '={{$parameter["event"] === "updatedAlert" ? "Updated alerts" : "New alerts"}}',
		description: 'Starts the workflow when Microsoft Defender for Endpoint raises or updates an alert; each alert exactly once',
		defaults: { name: 'Microsoft Defender for Endpoint Trigger' },
		credentials: [{ name: 'microsoftDefenderForEndpointApi', required: true }],
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Alerts', 'Tenant Failures'],
		properties,
	};

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const settings = readTriggerSettings(this);
		if (settings.manual) return await sample(this, settings);

		// Overlap guard (trigger/pollLock.pure.ts): one poll of this workflow + node at a time in this process.
		const key = pollKey(this.getWorkflow().id, this.getNode().id);
		const lease = pollLocks.acquire(key, Date.now(), staleLockMs(settings.budgetMs));
		if (!lease) {
			this.logger.debug(`Defender trigger: the previous poll of "${this.getNode().name}" is still running; this one does nothing`);
			return null;
		}
		try {
			const staticData = this.getWorkflowStaticData('node') as IDataObject;
			let apiOrigin: Promise<string | undefined> | undefined;
			const origin = async (): Promise<string | undefined> =>
				await (apiOrigin ??= (async () => {
					try {
						return (await openSession(this, { region: validateRegion(this.getNode(), undefined, settings.region) })).apiBaseUrl;
					} catch {
						return undefined; // the tenant's own request fails with the proper message
					}
				})());
			const field = settings.kind === 'created' ? 'alertCreationTime' : 'lastUpdateTime';
			let probe: Promise<unknown> | undefined;
			const result = await runTriggerPoll(settings, staticData, {
				openTenant: async (tenant, maxThrottleWaitMs) => tenantApi(await backendFor(this, { customerTenant: tenant.tenantId, region: settings.region, maxThrottleWaitMs })),
				now: () => Date.now(),
				serverNow: async (api) => {
					const url = await origin();
					const known = url ? serverClock.now(url) : undefined;
					if (known !== undefined) return { ms: known, fromApi: true };
					if (api && url) {
						// One small request to learn the API's clock (its Date header), once per API origin and process;
						// tenants priming at the same time wait for it. If it fails, this tenant fails (and a later one asks).
						const ask = async () => await api.listAlerts({ top: 1, orderBy: `${field} desc` });
						const mine = probe === undefined;
						const shared = (probe ??= ask());
						const failed = await shared.then(
							() => false,
							() => true,
						);
						if (failed) {
							if (probe === shared) probe = undefined;
							if (mine) await shared; // this tenant's own request failed: the tenant fails with its error
							else await ask(); // another tenant's request failed: ask for this one
						}
						const learned = serverClock.now(url);
						if (learned !== undefined) return { ms: learned, fromApi: true };
					}
					return { ms: Date.now(), fromApi: false };
				},
				primed: { get: (s) => primedStarts.get(key, s), set: (s, v) => primedStarts.set(key, s, v), forget: (s) => primedStarts.forget(key, s) },
				stagedState: isStagedCopy(staticData),
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
				const message = error instanceof Error ? error.message : String(error);
				throw new NodeApiError(this.getNode(), { message } as JsonObject, { message });
			}
			const alerts = result.alerts.map((a) => alertItem(settings.kind, a.emitted.alert, a.api, a.tenant, a.emitted));
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
