/**
 * Per-tenant Defender data: alerts in insertion order (the stable tie-breaker), devices, users, files and hunting
 * events. Time fields are kept as the strings the API serves, with BigInt tick caches for filtering and sorting.
 */
import { fromTicks, normalizeTimestamp, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { trimFraction, type EmulatorClock } from './clock';
import {
	generateAlert,
	isHighWithUser,
	emptyEvidence,
	makeAlertId,
	makeHuntingEvent,
	makeMachine,
	makeUser,
	pickTemplate,
	Rng,
	syntheticFile,
	tenantProfile,
	TICKS_PER_MS,
	TICKS_PER_SECOND,
	userKey,
	type TenantEntities,
} from './seed';
import type { Alert, AlertInput, FileEntity, HuntingEvent, Machine, SeedOptions, SeedResult, UserEntity } from './types';

export interface StoredAlert {
	seq: number;
	alert: Alert;
	createdTicks: bigint;
	updatedTicks: bigint;
	hidden: boolean;
	visibleAfterTicks?: bigint;
}

const ALERT_KEYS: ReadonlyArray<keyof Alert> = [
	'id', 'incidentId', 'investigationId', 'assignedTo', 'severity', 'status', 'classification', 'determination',
	'investigationState', 'detectionSource', 'detectorId', 'category', 'threatFamilyName', 'title', 'description',
	'alertCreationTime', 'firstEventTime', 'lastEventTime', 'lastUpdateTime', 'resolvedTime', 'machineId',
	'computerDnsName', 'rbacGroupName', 'aadTenantId', 'threatName', 'mitreTechniques', 'relatedUser', 'comments', 'evidence',
];

const CONTROL_KEYS = new Set(['hidden', 'visibleAfter', 'machineKnown']);

function toTicksFlexible(value: string | Date): bigint {
	return value instanceof Date ? BigInt(value.getTime()) * TICKS_PER_MS : toTicks(value);
}

export class TenantStore {
	readonly alerts: StoredAlert[] = [];
	readonly byId = new Map<string, StoredAlert>();
	readonly entities: TenantEntities;
	private seq = 0;
	private readonly rng: Rng;

	constructor(
		readonly tenantId: string,
		primaryDomain: string,
		private readonly clock: EmulatorClock,
	) {
		this.entities = {
			profile: tenantProfile(tenantId, primaryDomain),
			machines: new Map(),
			users: new Map(),
			files: new Map(),
			events: [],
			nextIncidentId: 1000 + (new Rng(tenantId).int(0, 8000)),
			nextInvestigationId: 100 + (new Rng(`${tenantId}|inv`).int(0, 800)),
			usedIds: new Set(),
		};
		this.rng = new Rng(`${tenantId}|runtime`);
	}

	// ------------------------------------------------------------------------------------------------ visibility

	isVisible(stored: StoredAlert, nowTicks: bigint): boolean {
		if (stored.hidden) return false;
		return stored.visibleAfterTicks === undefined || nowTicks >= stored.visibleAfterTicks;
	}

	// ------------------------------------------------------------------------------------------------ insertion

	private insert(alert: Alert, hidden = false, visibleAfterTicks?: bigint): StoredAlert {
		if (this.byId.has(alert.id)) throw new Error(`Alert ${alert.id} already exists in tenant ${this.tenantId}`);
		const stored: StoredAlert = {
			seq: ++this.seq,
			alert,
			createdTicks: toTicks(alert.alertCreationTime),
			updatedTicks: toTicks(alert.lastUpdateTime),
			hidden,
			visibleAfterTicks,
		};
		this.entities.usedIds.add(alert.id);
		this.alerts.push(stored);
		this.byId.set(alert.id, stored);
		this.registerRelated(alert);
		return stored;
	}

	/** Make sure /user and /files have entities for what the alert references. */
	private registerRelated(alert: Alert): void {
		if (alert.relatedUser && !this.entities.users.has(userKey(alert.relatedUser))) {
			const user = makeUser(
				new Rng(`${this.tenantId}|${userKey(alert.relatedUser)}`),
				this.entities.profile,
				alert.machineId ? [alert.machineId] : [],
				toTicks(alert.alertCreationTime),
				alert.relatedUser.userName,
				alert.relatedUser.domainName,
			);
			this.entities.users.set(userKey(alert.relatedUser), user);
		}
		for (const e of alert.evidence) {
			if (e.sha1 && !this.entities.files.has(e.sha1)) {
				this.entities.files.set(e.sha1, syntheticFile(e.sha1, e.sha256, e.fileName, toTicks(alert.alertCreationTime)));
			}
		}
	}

	// ------------------------------------------------------------------------------------------------ seeding

	ensureBaseEntities(rng: Rng, machineCount: number, userCount: number, startTicks: bigint, endTicks: bigint): void {
		const index = this.entities.machines.size;
		for (let i = 0; i < machineCount; i++) {
			const m = makeMachine(rng, this.entities.profile, index + i, startTicks - BigInt(rng.int(30, 400)) * 86_400n * TICKS_PER_SECOND, endTicks);
			this.entities.machines.set(m.id, m);
		}
		const machineIds = [...this.entities.machines.keys()];
		for (let i = 0; i < userCount; i++) {
			const u = makeUser(rng, this.entities.profile, machineIds, endTicks);
			this.entities.users.set(u.id.toLowerCase(), u);
		}
	}

	seed(options: SeedOptions, defaultEndTicks: bigint): SeedResult {
		const count = options.alerts ?? 40;
		const rng = new Rng(options.seed ?? this.tenantId);
		const endTicks = options.end !== undefined ? toTicksFlexible(options.end) : defaultEndTicks;
		const startTicks = options.start !== undefined ? toTicksFlexible(options.start) : endTicks - 7n * 86_400n * TICKS_PER_SECOND;
		if (endTicks < startTicks) throw new Error('seedTenant: end is before start');
		const machineCount = options.machines ?? Math.min(25, Math.max(3, Math.ceil(count / 4)));
		this.ensureBaseEntities(rng, machineCount, Math.max(4, Math.ceil(machineCount * 0.8)), startTicks, endTicks);

		const created = Array.from({ length: count }, () => rng.ticks(startTicks, endTicks)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
		const highNewIndexes = new Set<number>();
		// About one in eight alerts is a High-severity New alert with device and user (at least 2 when n ≥ 8).
		const highNew = count >= 8 ? Math.max(2, Math.floor(count / 8)) : 0;
		while (highNewIndexes.size < highNew) highNewIndexes.add(rng.int(0, count - 1));
		const windowsMachines = [...this.entities.machines.values()].filter((m) => m.osPlatform.startsWith('Windows'));

		const alertIds: string[] = [];
		for (let i = 0; i < count; i++) {
			const special = highNewIndexes.has(i);
			const alert = generateAlert(rng, this.entities, {
				createdTicks: created[i],
				maxUpdateTicks: endTicks,
				status: special ? 'New' : undefined,
				template: special ? pickTemplate(rng, isHighWithUser) : undefined,
				machine: special && windowsMachines.length > 0 ? rng.pick(windowsMachines) : undefined,
				shortUpdateTime: rng.chance(0.2),
			});
			if (special) {
				alert.severity = 'High';
				alert.assignedTo = null;
			}
			this.insert(alert);
			alertIds.push(alert.id);
		}
		const events: HuntingEvent[] = [];
		const eventCount = options.events ?? 12;
		for (let i = 0; i < eventCount; i++) {
			const event = makeHuntingEvent(rng, this.entities, rng.ticks(startTicks, endTicks));
			this.entities.events.push(event);
			events.push(event);
		}
		return { tenantId: this.tenantId, alertIds, machineIds: [...this.entities.machines.keys()], events };
	}

	// ------------------------------------------------------------------------------------------------ runtime adds

	/** Add alerts: fields given win; the rest is generated; default times come from the emulator clock. */
	addAlerts(inputs: AlertInput[]): Alert[] {
		if (this.entities.machines.size === 0) {
			const now = this.clock.nowTicks();
			this.ensureBaseEntities(this.rng, 4, 4, now - 30n * 86_400n * TICKS_PER_SECOND, now);
		}
		return inputs.map((input) => this.addOne(input));
	}

	private addOne(input: AlertInput): Alert {
		for (const key of Object.keys(input)) {
			if (!ALERT_KEYS.includes(key as keyof Alert) && !CONTROL_KEYS.has(key)) {
				throw new Error(`addAlerts: unknown alert property '${key}'`);
			}
		}
		const rng = this.rng;
		let createdTicks: bigint;
		let updatedTicks: bigint | undefined;
		if (input.alertCreationTime !== undefined) {
			createdTicks = toTicks(input.alertCreationTime);
			updatedTicks = input.lastUpdateTime !== undefined ? toTicks(input.lastUpdateTime) : createdTicks;
		} else if (input.lastUpdateTime !== undefined) {
			updatedTicks = toTicks(input.lastUpdateTime);
			createdTicks = updatedTicks;
		} else {
			createdTicks = this.clock.writeTicks();
			updatedTicks = createdTicks;
		}

		let machine: Machine | undefined;
		if (input.machineId !== undefined && input.machineId !== null) {
			machine = this.entities.machines.get(input.machineId);
			if (!machine) {
				machine = makeMachine(rng, this.entities.profile, this.entities.machines.size, createdTicks - 90n * 86_400n * TICKS_PER_SECOND, createdTicks, input.machineId, input.computerDnsName ?? undefined);
				if (input.machineKnown !== false) this.entities.machines.set(machine.id, machine);
			}
		} else if (input.machineKnown === false && input.machineId === undefined) {
			machine = makeMachine(rng, this.entities.profile, this.entities.machines.size, createdTicks - 90n * 86_400n * TICKS_PER_SECOND, createdTicks);
		}

		// Fresh alerts arrive as New; a caller that wants another lifecycle state sets status.
		const generated = generateAlert(rng, this.entities, {
			createdTicks,
			updatedTicks,
			status: input.status ?? 'New',
			machine,
		});
		if (input.machineId === null) {
			generated.machineId = null;
			generated.computerDnsName = null;
			generated.rbacGroupName = null;
		}
		if (input.id !== undefined) {
			this.entities.usedIds.delete(generated.id);
			generated.id = input.id;
		} else {
			// keep the generated id consistent with the creation time
			this.entities.usedIds.delete(generated.id);
			generated.id = makeAlertId(rng, createdTicks, this.entities.usedIds);
		}
		const alert: Alert = { ...generated };
		for (const key of ALERT_KEYS) {
			if (key in input && input[key] !== undefined) (alert as unknown as Record<string, unknown>)[key] = structuredClone(input[key]);
		}
		alert.alertCreationTime = normalizeTimestamp(alert.alertCreationTime);
		if (input.lastUpdateTime === undefined) alert.lastUpdateTime = trimFraction(fromTicks(updatedTicks));
		else toTicks(alert.lastUpdateTime);
		for (const key of ['firstEventTime', 'lastEventTime', 'resolvedTime'] as const) {
			const v = alert[key];
			if (typeof v === 'string') alert[key] = normalizeTimestamp(v);
		}
		if (input.status !== undefined && input.status !== 'Resolved' && input.resolvedTime === undefined) alert.resolvedTime = null;
		if (input.status === 'Resolved' && input.resolvedTime === undefined) alert.resolvedTime = normalizeTimestamp(alert.lastUpdateTime);
		if (input.status === 'New' && input.classification === undefined) {
			alert.classification = null;
			alert.determination = null;
		}

		let visibleAfterTicks: bigint | undefined;
		if (typeof input.visibleAfter === 'string') visibleAfterTicks = toTicks(input.visibleAfter);
		else if (typeof input.visibleAfter === 'number') visibleAfterTicks = this.clock.nowTicks() + BigInt(Math.trunc(input.visibleAfter)) * TICKS_PER_MS;
		this.insert(alert, input.hidden ?? false, visibleAfterTicks);
		return structuredClone(alert);
	}

	// ------------------------------------------------------------------------------------------------ updates

	/** Set lastUpdateTime (served exactly as `rendered`). */
	setLastUpdate(stored: StoredAlert, rendered: string): void {
		stored.updatedTicks = toTicks(rendered);
		stored.alert.lastUpdateTime = rendered;
	}

	/** Server-side change: apply fields, bump lastUpdateTime to a fresh write tick unless given. */
	update(id: string, patch: Partial<Alert> & { hidden?: boolean; visibleAfter?: string | number }): Alert {
		const stored = this.byId.get(id);
		if (!stored) throw new Error(`Unknown alert ${id} in tenant ${this.tenantId}`);
		for (const key of Object.keys(patch)) {
			if (!ALERT_KEYS.includes(key as keyof Alert) && key !== 'hidden' && key !== 'visibleAfter') {
				throw new Error(`updateAlert: unknown alert property '${key}'`);
			}
		}
		if (patch.id !== undefined && patch.id !== id) throw new Error('updateAlert: the id cannot change');
		for (const key of ALERT_KEYS) {
			if (key === 'lastUpdateTime' || key === 'id') continue;
			if (key in patch) (stored.alert as unknown as Record<string, unknown>)[key] = structuredClone(patch[key]);
		}
		if (patch.alertCreationTime !== undefined) {
			stored.alert.alertCreationTime = normalizeTimestamp(patch.alertCreationTime);
			stored.createdTicks = toTicks(patch.alertCreationTime);
		}
		if (patch.status !== undefined && !('resolvedTime' in patch)) {
			stored.alert.resolvedTime = patch.status === 'Resolved' ? stored.alert.resolvedTime ?? null : null;
		}
		if (patch.hidden !== undefined) stored.hidden = patch.hidden;
		if (typeof patch.visibleAfter === 'string') stored.visibleAfterTicks = toTicks(patch.visibleAfter);
		else if (typeof patch.visibleAfter === 'number') stored.visibleAfterTicks = this.clock.nowTicks() + BigInt(Math.trunc(patch.visibleAfter)) * TICKS_PER_MS;
		const rendered = patch.lastUpdateTime ?? trimFraction(this.clock.write());
		this.setLastUpdate(stored, rendered);
		if (stored.alert.status === 'Resolved' && stored.alert.resolvedTime === null) stored.alert.resolvedTime = normalizeTimestamp(rendered);
		this.registerRelated(stored.alert);
		return structuredClone(stored.alert);
	}

	// ------------------------------------------------------------------------------------------------ entities

	addEvents(events: Array<Partial<HuntingEvent> & { reportId: string | number; eventTime: string; machineId: string }>): HuntingEvent[] {
		return events.map((e) => {
			const event: HuntingEvent = {
				reportId: String(e.reportId),
				eventTime: normalizeTimestamp(e.eventTime),
				machineId: e.machineId,
				actionType: e.actionType ?? 'ProcessCreated',
				fileName: e.fileName ?? null,
				folderPath: e.folderPath ?? null,
				sha1: e.sha1 ?? null,
				processCommandLine: e.processCommandLine ?? null,
				accountName: e.accountName ?? null,
				accountDomain: e.accountDomain ?? null,
			};
			if (!this.entities.machines.has(event.machineId)) {
				const now = this.clock.nowTicks();
				const m = makeMachine(this.rng, this.entities.profile, this.entities.machines.size, now - 90n * 86_400n * TICKS_PER_SECOND, now, event.machineId);
				this.entities.machines.set(m.id, m);
			}
			this.entities.events.push(event);
			return { ...event };
		});
	}

	findEvent(reportId: string, eventTicks: bigint, machineId: string): HuntingEvent | undefined {
		return this.entities.events.find((e) => e.reportId === reportId && e.machineId === machineId && toTicks(e.eventTime) === eventTicks);
	}

	machine(id: string | null): Machine | undefined {
		return id ? this.entities.machines.get(id) : undefined;
	}

	user(alert: Alert): UserEntity | undefined {
		return alert.relatedUser ? this.entities.users.get(userKey(alert.relatedUser)) : undefined;
	}

	file(sha1: string): FileEntity | undefined {
		return this.entities.files.get(sha1);
	}

	removeMachine(id: string): void {
		this.entities.machines.delete(id);
	}

	/** New alert for CreateAlertByReference (CustomerTI, PendingApproval, New). */
	createFromEvent(event: HuntingEvent, body: { severity: string; title: string; description: string; recommendedAction: string; category: string }): Alert {
		const created = this.clock.writeTicks();
		const machine = this.entities.machines.get(event.machineId);
		const relatedUser = event.accountName && event.accountDomain ? { userName: event.accountName, domainName: event.accountDomain.toUpperCase() } : null;
		const evidence = event.sha1
			? [
					{
						...emptyEvidence('Process', trimFraction(fromTicks(created))),
						sha1: event.sha1,
						sha256: this.entities.files.get(event.sha1)?.sha256 ?? null,
						fileName: event.fileName,
						filePath: event.folderPath ? event.folderPath.replace(/\\[^\\]+$/, '') : null,
						processId: this.rng.int(1000, 16000),
						processCommandLine: event.processCommandLine,
						processCreationTime: event.eventTime,
						accountName: event.accountName,
						domainName: relatedUser?.domainName ?? null,
						detectionStatus: 'Detected',
					},
				]
			: [];
		const alert: Alert = {
			id: makeAlertId(this.rng, created, this.entities.usedIds),
			incidentId: this.entities.nextIncidentId++,
			investigationId: this.entities.nextInvestigationId++,
			assignedTo: null,
			severity: body.severity,
			status: 'New',
			classification: null,
			determination: null,
			investigationState: 'PendingApproval',
			detectionSource: 'CustomerTI',
			detectorId: new Rng(`customer-ti|${body.title}`).guid(),
			category: body.category,
			threatFamilyName: null,
			title: body.title,
			description: `${body.description}\n\nRecommended action: ${body.recommendedAction}`,
			alertCreationTime: fromTicks(created),
			firstEventTime: event.eventTime,
			lastEventTime: event.eventTime,
			lastUpdateTime: trimFraction(fromTicks(created)),
			resolvedTime: null,
			machineId: event.machineId,
			computerDnsName: machine?.computerDnsName ?? null,
			rbacGroupName: machine?.rbacGroupName ?? null,
			aadTenantId: this.tenantId,
			threatName: null,
			mitreTechniques: [],
			relatedUser,
			comments: [],
			evidence,
		};
		this.insert(alert);
		return alert;
	}
}

export const ALERT_PROPERTY_NAMES = ALERT_KEYS;
export { TICKS_PER_SECOND };
