import {
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
import type { AlertRecord } from './backend/types';
import { decorateAlertFields, outputTenantId } from './helpers/output';
import { failureFacts } from './transport/request';
import { properties } from './trigger/description';
import { runTriggerPoll, type TenantApi, type TenantFailure, type TriggerState, writeTriggerState } from './trigger/orchestrator.pure';
import type { Emitted, EventKind } from './trigger/poller';
import { readTriggerSettings, type SampleSettings } from './trigger/settings';
import type { TenantEntry } from './trigger/tenants';

/** An alert as the trigger outputs it: the alert, event, then the same portalUrl/tenantId/dedupKey/label as Get. */
function alertItem(kind: EventKind, alert: AlertRecord, api: TenantApi, tenant: TenantEntry, watch?: Emitted): INodeExecutionData {
	const out: AlertRecord = { ...alert, event: kind === 'created' ? 'newAlert' : 'updatedAlert' };
	const json = decorateAlertFields(out, { tenantId: outputTenantId(api, alert), portalUrl: api.portalUrl(alert.id), customerLabel: tenant.label || undefined });
	if (watch?.changedFields) Object.assign(json, { changedFields: watch.changedFields, previous: watch.previous ?? {}, previousKnown: watch.previousKnown ?? false });
	return { json };
}

function failureItem(failure: TenantFailure): INodeExecutionData {
	const facts = failureFacts(failure.error);
	return {
		json: {
			tenantId: failure.tenantId || null,
			customerLabel: failure.tenant.label ?? null,
			error: facts.message,
			description: facts.description ?? null,
			httpCode: facts.httpCode ?? null,
			retryAfterSeconds: facts.retryAfterMs !== undefined ? Math.ceil(facts.retryAfterMs / 1000) : null,
			alertsEmitted: failure.alertsEmitted,
		},
	};
}

function mainOutput(settings: SampleSettings, items: INodeExecutionData[]): INodeExecutionData[] {
	return settings.outputMode === 'single' && items.length > 0 ? [{ json: { alerts: items.map((a) => a.json), count: items.length } }] : items;
}

/** "Fetch test event": the newest matching alert of each tenant (up to 3 tenants); static data untouched. */
async function sample(ctx: IPollFunctions, settings: SampleSettings): Promise<INodeExecutionData[][]> {
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
	return [mainOutput(settings, samples), []];
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

		const staticData = this.getWorkflowStaticData('node') as unknown as Partial<TriggerState>;
		const result = await runTriggerPoll(settings, staticData, {
			openTenant: async (tenant, maxThrottleWaitMs) => await backendFor(this, { customerTenant: tenant.tenantId, region: settings.region, maxThrottleWaitMs }),
			now: () => Date.now(),
		});
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
		const failures = result.failures.map(failureItem);
		if (alerts.length === 0 && failures.length === 0) return null;
		return [mainOutput(settings, alerts), failures];
	}
}
