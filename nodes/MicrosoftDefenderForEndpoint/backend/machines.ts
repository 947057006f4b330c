/**
 * Machines and machine actions of the Defender for Endpoint API (`/api/machines…`, `/api/machineactions…`), on top
 * of the shared transport. Says WHAT each call is (method, path, query, body, endpoint class, idempotent, the
 * roles it needs); `defenderRequest` does the rest. This surface exists on the Defender for Endpoint API only
 * (Microsoft Graph has no device response actions of this shape), so it has its own interface.
 *
 * Sources: https://learn.microsoft.com/en-us/defender-endpoint/api/machine (and the pages it links: List machines,
 * Get machine by ID, Find devices by IP, Find devices by tag, Add or Remove Machine Tags, Get machine logon users,
 * Get machine related alerts), https://learn.microsoft.com/en-us/defender-endpoint/api/machineaction (Isolate,
 * Release from isolation, Run antivirus scan, Restrict/Remove app restriction, Collect investigation package,
 * Get package SAS URI, Stop and quarantine file, Offboard, Cancel, List/Get MachineActions).
 */
import type { ICredentialDataDecryptedObject, IDataObject, INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { alertPortalUrl } from '../core/clouds';
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { idFilter, IDS_PER_CALL } from '../helpers/machines';
import { MACHINE_READ_ROLES, rolesFor } from '../helpers/permissions';
import { type DefenderContext, type DefenderSession, defenderRequest, describeFailure, openSession, sessionToken } from '../transport/request';
import type { BackendOptions } from './mde';
import type { AlertRecord } from './types';
import { stripContext } from './entities';

export type MachineRecord = { id: string; computerDnsName?: string | null; machineTags?: string[]; [key: string]: unknown };
export type MachineActionRecord = { id: string; type?: string; status?: string; machineId?: string | null; [key: string]: unknown };

/** The response actions: the path segment after `/api/machines/{id}/` and the action's `type`. */
export const ACTION_KINDS = {
	isolate: { path: 'isolate', type: 'Isolate', label: 'isolate', operation: 'machineAction.isolate' },
	unisolate: { path: 'unisolate', type: 'Unisolate', label: 'release from isolation', operation: 'machineAction.releaseIsolation' },
	runAntiVirusScan: { path: 'runAntiVirusScan', type: 'RunAntiVirusScan', label: 'antivirus scan', operation: 'machineAction.runAntivirusScan' },
	restrictCodeExecution: { path: 'restrictCodeExecution', type: 'RestrictCodeExecution', label: 'restrict app execution', operation: 'machineAction.restrictAppExecution' },
	unrestrictCodeExecution: { path: 'unrestrictCodeExecution', type: 'UnrestrictCodeExecution', label: 'remove app restriction', operation: 'machineAction.removeAppRestriction' },
	collectInvestigationPackage: {
		path: 'collectInvestigationPackage',
		type: 'CollectInvestigationPackage',
		label: 'investigation package collection',
		operation: 'machineAction.collectInvestigationPackage',
	},
	stopAndQuarantineFile: { path: 'StopAndQuarantineFile', type: 'StopAndQuarantineFile', label: 'stop and quarantine file', operation: 'machineAction.stopAndQuarantineFile' },
	offboard: { path: 'offboard', type: 'Offboard', label: 'offboard', operation: 'machineAction.offboard' },
} as const;

export type ActionKind = keyof typeof ACTION_KINDS;

/** PascalCase bodies (machine-action bodies are case-sensitive, unlike the alert ones). */
export interface ActionBody {
	Comment: string;
	IsolationType?: 'Full' | 'Selective';
	ScanType?: 'Quick' | 'Full';
	Sha1?: string;
}

export interface ActionResult {
	action: MachineActionRecord;
	/** the API answered ActiveRequestAlreadyExists and this is the action already pending on the machine */
	alreadyPending: boolean;
}

export interface ListQuery {
	filter?: string;
	top: number;
	skip?: number;
}

export interface MachineBackend {
	readonly name: 'mde';
	/** tenant the calls go to (GUID or domain, as configured) */
	readonly tenantId: string;
	readonly maxPageSize: number;
	/** the tenant GUID for output and keys (from the token when the tenant was given by domain; no request) */
	outputTenantId(): Promise<string>;
	listMachines(query: ListQuery): Promise<MachineRecord[]>;
	getMachine(id: string): Promise<MachineRecord>;
	/** machines by ID in chunks of IDS_PER_CALL (`id eq … or …`); missing IDs are simply absent */
	machinesByIds(ids: string[]): Promise<MachineRecord[]>;
	findByIp(ip: string, timestamp: string): Promise<MachineRecord[]>;
	findByTag(tag: string, startsWith: boolean): Promise<MachineRecord[]>;
	setTag(id: string, tag: string, action: 'Add' | 'Remove'): Promise<MachineRecord>;
	logonUsers(id: string): Promise<IDataObject[]>;
	machineAlerts(id: string): Promise<AlertRecord[]>;
	runAction(machineId: string, kind: ActionKind, body: ActionBody): Promise<ActionResult>;
	getAction(id: string): Promise<MachineActionRecord>;
	listActions(query: ListQuery): Promise<MachineActionRecord[]>;
	/** actions by ID in one call (`id eq … or …`, at most IDS_PER_CALL IDs) */
	actionsByIds(ids: string[]): Promise<MachineActionRecord[]>;
	cancelAction(id: string, comment: string): Promise<MachineActionRecord>;
	/** the short-lived download link of a succeeded investigation package collection */
	packageUri(actionId: string): Promise<string>;
	portalUrl(machineId: string): string;
	alertPortalUrl(alertId: string): string;
	/** the path a request would go to, for Dry Run output */
	actionPath(machineId: string, kind: ActionKind): string;
}

export const MACHINE_MAX_PAGE_SIZE = 10_000;

type Session = DefenderSession & { data: ICredentialDataDecryptedObject };

const MACHINE_READ = MACHINE_READ_ROLES;

function valueOf<T>(body: { value?: unknown } | undefined): T[] {
	return Array.isArray(body?.value) ? (body.value as T[]) : [];
}

/** A failure of the transport as it came (NodeApiError / NodeOperationError), anything else wrapped. */
function asNodeError(node: INode, error: unknown): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeApiError(node, error as JsonObject);
}

/** The Defender error code of a failed call (`error.code` of the response body), if any. */
export function defenderCode(error: unknown): string | undefined {
	const response = (error as { errorResponse?: { code?: unknown } } | undefined)?.errorResponse;
	if (response && typeof response.code === 'string') return response.code;
	return describeFailure(error).defender?.code;
}

/** A second action of the same kind while one is pending: ActiveRequestAlreadyExists, or "already in progress". */
export function isActiveRequestConflict(error: unknown): boolean {
	const info = describeFailure(error);
	if (info.status !== undefined && info.status !== 400 && info.status !== 409) return false;
	const code = defenderCode(error) ?? '';
	const message = error instanceof Error ? error.message : '';
	return /ActiveRequestAlreadyExists/i.test(code) || /ActiveRequestAlreadyExists|already in progress|already (?:a )?pending/i.test(message);
}

export async function mdeMachineBackend(ctx: DefenderContext, options: BackendOptions = {}): Promise<MachineBackend> {
	const session: Session = await openSession(ctx, options);
	const base = { itemIndex: options.itemIndex, maxThrottleWaitMs: options.maxThrottleWaitMs };
	const request = async <T>(req: Parameters<typeof defenderRequest>[1]): Promise<T> => await defenderRequest<T>(ctx, { ...base, ...req }, session);
	const machineNotFound = (id: string) => `Machine ${id} was not found in tenant ${session.tenantId}`;
	const actionNotFound = (id: string) => `Machine action ${id} was not found in tenant ${session.tenantId}`;
	const tid = isGuid(session.tenantId) ? `?tid=${session.tenantId.toLowerCase()}` : '';

	const listActions = async (query: ListQuery): Promise<MachineActionRecord[]> => {
		const qs: IDataObject = { $top: Math.min(Math.max(1, query.top), MACHINE_MAX_PAGE_SIZE) };
		if (query.filter) qs.$filter = query.filter;
		if (query.skip) qs.$skip = query.skip;
		const body = await request<{ value?: unknown }>({
			method: 'GET',
			path: ['machineactions'],
			qs,
			endpointClass: 'machineActions',
			idempotent: true,
			requiredRoles: rolesFor('machineAction.getAll'),
		});
		return valueOf<MachineActionRecord>(body);
	};

	const listMachines = async (query: ListQuery): Promise<MachineRecord[]> => {
		const qs: IDataObject = { $top: Math.min(Math.max(1, query.top), MACHINE_MAX_PAGE_SIZE) };
		if (query.filter) qs.$filter = query.filter;
		if (query.skip) qs.$skip = query.skip;
		try {
			const body = await request<{ value?: unknown }>({
				method: 'GET',
				path: ['machines'],
				qs,
				endpointClass: 'machines',
				idempotent: true,
				requiredRoles: MACHINE_READ,
			});
			return valueOf<MachineRecord>(body);
		} catch (error) {
			// List machines documents 404 when there are no recent machines (List machines, Response): an empty list.
			if (describeFailure(error).status === 404) return [];
			throw asNodeError(ctx.getNode(), error);
		}
	};

	return {
		name: 'mde',
		tenantId: session.tenantId,
		maxPageSize: MACHINE_MAX_PAGE_SIZE,

		async outputTenantId(): Promise<string> {
			if (isGuid(session.tenantId)) return session.tenantId.toLowerCase();
			const claims = decodeTokenClaims(await sessionToken(ctx, session, options.itemIndex));
			return claims.tid && isGuid(claims.tid) ? claims.tid.toLowerCase() : session.tenantId;
		},

		listMachines,

		async getMachine(id: string): Promise<MachineRecord> {
			const machine = await request<MachineRecord>({
				method: 'GET',
				path: ['machines', id],
				endpointClass: 'machines',
				idempotent: true,
				notFoundMessage: machineNotFound(id),
				requiredRoles: MACHINE_READ,
			});
			return stripContext(machine);
		},

		async machinesByIds(ids: string[]): Promise<MachineRecord[]> {
			const out: MachineRecord[] = [];
			for (let k = 0; k < ids.length; k += IDS_PER_CALL) {
				const part = ids.slice(k, k + IDS_PER_CALL);
				out.push(...(await listMachines({ filter: idFilter(part), top: part.length })));
			}
			return out;
		},

		async findByIp(ip: string, timestamp: string): Promise<MachineRecord[]> {
			const body = await request<{ value?: unknown }>({
				method: 'GET',
				path: ['machines', `findbyip(ip='${ip}',timestamp=${timestamp})`],
				endpointClass: 'machines',
				idempotent: true,
				requiredRoles: rolesFor('machine.findByIp'),
			});
			return valueOf<MachineRecord>(body);
		},

		async findByTag(tag: string, startsWith: boolean): Promise<MachineRecord[]> {
			const body = await request<{ value?: unknown }>({
				method: 'GET',
				path: ['machines', 'findbytag'],
				qs: { tag, useStartsWithFilter: startsWith },
				endpointClass: 'machines',
				idempotent: true,
				requiredRoles: rolesFor('machine.findByTag'),
			});
			return valueOf<MachineRecord>(body);
		},

		async setTag(id: string, tag: string, action: 'Add' | 'Remove'): Promise<MachineRecord> {
			const machine = await request<MachineRecord>({
				method: 'POST',
				path: ['machines', id, 'tags'],
				body: { Value: tag, Action: action },
				endpointClass: 'machines',
				idempotent: false,
				notFoundMessage: machineNotFound(id),
				requiredRoles: rolesFor('machine.addTag'),
			});
			return stripContext(machine);
		},

		async logonUsers(id: string): Promise<IDataObject[]> {
			const body = await request<{ value?: unknown }>({
				method: 'GET',
				path: ['machines', id, 'logonusers'],
				endpointClass: 'machines',
				idempotent: true,
				notFoundMessage: machineNotFound(id),
				requiredRoles: rolesFor('machine.getLogonUsers'),
			});
			return valueOf<IDataObject>(body);
		},

		async machineAlerts(id: string): Promise<AlertRecord[]> {
			const body = await request<{ value?: unknown }>({
				method: 'GET',
				path: ['machines', id, 'alerts'],
				endpointClass: 'machines',
				idempotent: true,
				notFoundMessage: machineNotFound(id),
				requiredRoles: rolesFor('machine.getAlerts'),
			});
			return valueOf<AlertRecord>(body);
		},

		async runAction(machineId: string, kind: ActionKind, body: ActionBody): Promise<ActionResult> {
			const spec = ACTION_KINDS[kind];
			try {
				const action = await request<MachineActionRecord>({
					method: 'POST',
					path: ['machines', machineId, spec.path],
					body: body as unknown as IDataObject,
					endpointClass: 'machineActions',
					// A lost response must not become a second action: never repeated automatically.
					idempotent: false,
					notFoundMessage: machineNotFound(machineId),
					requiredRoles: rolesFor(spec.operation),
				});
				return { action: stripContext(action), alreadyPending: false };
			} catch (error) {
				if (isActiveRequestConflict(error)) {
					// The action already pending on the machine is the answer (re-runs and retries are idempotent).
					const pending = await listActions({
						filter: `machineId eq '${machineId}' and type eq '${spec.type}' and (status eq 'Pending' or status eq 'InProgress')`,
						top: 50,
					});
					const newest = [...pending].sort((a, b) => String(b.creationDateTimeUtc ?? '').localeCompare(String(a.creationDateTimeUtc ?? '')))[0];
					if (newest) return { action: stripContext(newest), alreadyPending: true };
				}
				const info = describeFailure(error);
				if (error instanceof NodeApiError && (info.status === undefined || info.status >= 500)) {
					// No answer, or a server failure: the action may or may not exist now. Say how to check.
					error.description =
						`The ${spec.label} request for machine ${machineId} was sent, but no usable answer came back, so Defender may or may not have accepted it. ` +
						`It was not repeated automatically. Check with Machine Action → Get Many Actions (Machine ID ${machineId}, type ${spec.type}) before running it again; ` +
						'a repeat while the first one is pending is answered with the pending action.';
				}
				throw asNodeError(ctx.getNode(), error);
			}
		},

		async getAction(id: string): Promise<MachineActionRecord> {
			const action = await request<MachineActionRecord>({
				method: 'GET',
				path: ['machineactions', id],
				endpointClass: 'machineActions',
				idempotent: true,
				notFoundMessage: actionNotFound(id),
				requiredRoles: rolesFor('machineAction.get'),
			});
			return stripContext(action);
		},

		listActions,

		async actionsByIds(ids: string[]): Promise<MachineActionRecord[]> {
			if (ids.length === 0) return [];
			return await listActions({ filter: idFilter(ids), top: ids.length });
		},

		async cancelAction(id: string, comment: string): Promise<MachineActionRecord> {
			const action = await request<MachineActionRecord>({
				method: 'POST',
				path: ['machineactions', id, 'cancel'],
				body: { Comment: comment },
				endpointClass: 'machineActions',
				idempotent: false,
				notFoundMessage: actionNotFound(id),
				requiredRoles: rolesFor('machineAction.cancel'),
			});
			return stripContext(action);
		},

		async packageUri(actionId: string): Promise<string> {
			const body = await request<{ value?: unknown } | string>({
				method: 'GET',
				path: ['machineactions', actionId, 'GetPackageUri'],
				endpointClass: 'packageUri',
				idempotent: true,
				notFoundMessage: `No investigation package download link for action ${actionId} in tenant ${session.tenantId}`,
				requiredRoles: rolesFor('machineAction.getPackageDownloadLink'),
			});
			const value = typeof body === 'string' ? body : body?.value;
			return typeof value === 'string' ? value : '';
		},

		portalUrl(machineId: string): string {
			return `${session.endpoints.portalUrl}/machines/v2/${encodeURIComponent(machineId)}/overview${tid}`;
		},

		alertPortalUrl(alertId: string): string {
			return alertPortalUrl(session.endpoints, alertId, isGuid(session.tenantId) ? session.tenantId : undefined);
		},

		actionPath(machineId: string, kind: ActionKind): string {
			return `/api/machines/${encodeURIComponent(machineId)}/${ACTION_KINDS[kind].path}`;
		},
	};
}
