/**
 * Machines and machine (response) actions, the pure part: machine references, DNS-name matching, the OData
 * filters, the guard-rails (Max Machines per Execution, Exclude Tags), the per-execution machine ledger and the
 * wait-for-completion plan. No n8n types and no throwing: checks return `{ ok: true, … }` or
 * `{ ok: false, message, hint }`; the operation turns a problem into a NodeOperationError with the item index,
 * before any request.
 *
 * Sources: Machine resource type https://learn.microsoft.com/en-us/defender-endpoint/api/machine,
 * List machines https://learn.microsoft.com/en-us/defender-endpoint/api/get-machines,
 * Find devices by internal IP https://learn.microsoft.com/en-us/defender-endpoint/api/find-machines-by-ip,
 * MachineAction resource type https://learn.microsoft.com/en-us/defender-endpoint/api/machineaction,
 * List MachineActions https://learn.microsoft.com/en-us/defender-endpoint/api/get-machineactions-collection.
 */
import { isIP } from 'node:net';

import { odataString } from './odata';

export type Check<T> = { ok: true; value: T } | { ok: false; message: string; hint: string };

const ok = <T>(value: T): Check<T> => ({ ok: true, value });
const fail = <T>(message: string, hint: string): Check<T> => ({ ok: false, message, hint });

function shorten(value: string, max = 80): string {
	return value.length > max ? `${value.slice(0, max)}…` : value;
}

// ------------------------------------------------------------------------------------------------ enums

/** healthStatus of the Machine resource type. */
export const HEALTH_STATUSES = ['Active', 'Inactive', 'ImpairedCommunication', 'NoSensorData', 'NoSensorDataImpairedCommunication', 'Unknown'] as const;
export const RISK_SCORES = ['None', 'Informational', 'Low', 'Medium', 'High'] as const;
export const EXPOSURE_LEVELS = ['None', 'Low', 'Medium', 'High'] as const;
/** osPlatform values seen in the documentation; others are accepted as words (the list is not exhaustive). */
export const OS_PLATFORMS = [
	'Android',
	'iOS',
	'Linux',
	'macOS',
	'Windows10',
	'Windows11',
	'Windows7',
	'Windows8',
	'Windows8.1',
	'WindowsServer2008R2',
	'WindowsServer2012',
	'WindowsServer2012R2',
	'WindowsServer2016',
	'WindowsServer2019',
	'WindowsServer2022',
	'WindowsServer2025',
] as const;

/** status of a MachineAction; the last four are final. */
export const ACTION_STATUSES = ['Pending', 'InProgress', 'Succeeded', 'Failed', 'TimeOut', 'Cancelled'] as const;
export const TERMINAL_STATUSES: readonly string[] = ['Succeeded', 'Failed', 'TimeOut', 'Cancelled'];
/** type of a MachineAction. */
export const ACTION_TYPES = [
	'CollectInvestigationPackage',
	'Isolate',
	'LiveResponse',
	'Offboard',
	'RestrictCodeExecution',
	'RunAntiVirusScan',
	'StopAndQuarantineFile',
	'Unisolate',
	'UnrestrictCodeExecution',
] as const;

export function isTerminalStatus(status: unknown): boolean {
	return typeof status === 'string' && TERMINAL_STATUSES.includes(status);
}

// ------------------------------------------------------------------------------------------------ identifiers

/** Device IDs are 40 hexadecimal characters (the Machine resource type's `id`). */
export const MACHINE_ID_RE = /^[0-9a-f]{40}$/i;
export const MACHINE_ID_PATTERN = '^\\s*[0-9a-fA-F]{40}\\s*$';
/** Host names and FQDNs: labels of letters, digits and hyphens (underscores are seen in the wild). */
export const DNS_NAME_RE = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/i;
export const DNS_NAME_PATTERN = '^\\s*[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(\\.[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*\\.?\\s*$';
const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SHA1_RE = /^[0-9a-f]{40}$/i;

export function validateMachineId(raw: unknown, label = 'Machine ID'): Check<string> {
	const value = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : '';
	if (!value) return fail(`${label} is empty`, 'Enter the 40-character device ID, pick a machine from the list, or give its DNS name.');
	if (!MACHINE_ID_RE.test(value)) {
		return fail(
			`${label} "${shorten(value)}" is not a Defender device ID`,
			'Device IDs are 40 hexadecimal characters (the "id" of a machine, "machineId" of an alert, DeviceId in advanced hunting). To name the device by host name, switch the field to "By DNS Name".',
		);
	}
	return ok(value.toLowerCase());
}

export function validateDnsName(raw: unknown): Check<string> {
	const value = typeof raw === 'string' ? raw.trim().replace(/\.$/, '') : '';
	if (!value) return fail('DNS name is empty', 'Enter the device\'s computer DNS name, e.g. ws-0042.contoso.local (or only the host name, ws-0042).');
	if (!DNS_NAME_RE.test(value)) {
		return fail(`"${shorten(value)}" is not a DNS name`, 'Use the device\'s computer DNS name as Defender shows it, e.g. ws-0042.contoso.local, without spaces or a URL scheme.');
	}
	return ok(value.toLowerCase());
}

export function validateActionId(raw: unknown): Check<string> {
	const value = typeof raw === 'string' ? raw.trim() : '';
	if (!value) return fail('Action ID is empty', 'Enter the machine action\'s ID (a GUID, the "id" returned by Isolate, Run Antivirus Scan, …).');
	if (!GUID_RE.test(value)) return fail(`Action ID "${shorten(value)}" is not a GUID`, 'Machine action IDs look like 7c8c7a30-5b8f-4a4c-9c6c-1b2f3e4d5a6b.');
	return ok(value.toLowerCase());
}

export function validateSha1(raw: unknown): Check<string> {
	const value = typeof raw === 'string' ? raw.trim() : '';
	if (!value) return fail('SHA-1 is empty', 'Enter the SHA-1 hash (40 hexadecimal characters) of the file to stop and quarantine.');
	if (!SHA1_RE.test(value)) {
		const hint = /^[0-9a-f]{64}$/i.test(value)
			? 'That is a SHA-256 hash; Stop and Quarantine File takes the SHA-1 (40 hexadecimal characters), e.g. the sha1 of the alert\'s file evidence.'
			: 'A SHA-1 hash is 40 hexadecimal characters, e.g. the sha1 of the alert\'s file evidence.';
		return fail(`"${shorten(value)}" is not a SHA-1 hash`, hint);
	}
	return ok(value.toLowerCase());
}

export function validateIp(raw: unknown): Check<string> {
	const value = typeof raw === 'string' ? raw.trim() : '';
	if (!value) return fail('IP address is empty', 'Enter the internal IP address the device had, e.g. 10.1.2.3.');
	if (isIP(value) === 0) return fail(`"${shorten(value)}" is not an IP address`, 'Enter one IPv4 or IPv6 address without a prefix length, e.g. 10.1.2.3.');
	return ok(value);
}

/** Tag values: the API stores free text; empty and over-long values are refused here. */
export function validateTag(raw: unknown, label = 'Tag'): Check<string> {
	const value = typeof raw === 'string' ? raw.trim() : typeof raw === 'number' ? String(raw) : '';
	if (!value) return fail(`${label} is empty`, 'Enter the device tag, e.g. critical-server.');
	if (value.length > 200) return fail(`${label} is longer than 200 characters`, 'Device tags are short labels such as critical-server or VIP.');
	return ok(value);
}

/** A comma or newline separated list (or an array) of tags. */
export function parseTagList(raw: unknown): string[] {
	if (raw === undefined || raw === null || raw === '') return [];
	const list = Array.isArray(raw) ? raw : String(raw).split(/[,\n;]/);
	return [...new Set(list.map((v) => String(v).trim()).filter((v) => v !== ''))];
}

/** findbyip only answers for the last 30 days (Find devices by internal IP). */
export const FIND_BY_IP_MAX_AGE_MS = 30 * 24 * 3600_000;

/** The findbyip timestamp (`YYYY-MM-DDTHH:MM:SSZ`) from epoch ms, checked against the 30-day window. */
export function findByIpTimestamp(ms: number, nowMs: number): Check<string> {
	if (!Number.isFinite(ms)) return fail('Timestamp is not a valid date', 'Use an ISO 8601 date-time such as 2025-03-04T09:15:22Z, or leave it empty for now.');
	if (ms < nowMs - FIND_BY_IP_MAX_AGE_MS) {
		return fail('Timestamp is more than 30 days ago', 'Defender answers Find by IP only for the last 30 days (the device is searched 15 minutes before and after the timestamp).');
	}
	if (ms > nowMs + 15 * 60_000) return fail('Timestamp is in the future', 'Use the time the IP address was seen, e.g. the alert\'s time; empty means now.');
	return ok(new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z'));
}

// ------------------------------------------------------------------------------------------------ machine references

export type MachineRef = { kind: 'id'; id: string } | { kind: 'dnsName'; name: string };

/** Key of a reference for counting and de-duplication (case-insensitive). */
export function refKey(ref: MachineRef): string {
	return ref.kind === 'id' ? `id:${ref.id.toLowerCase()}` : `dns:${ref.name.toLowerCase()}`;
}

export function refText(ref: MachineRef): string {
	return ref.kind === 'id' ? ref.id : ref.name;
}

/** A reference from a resource locator's mode and value (`list` and `id` hold an ID, `dnsName` a name). */
export function machineRefFrom(mode: string, value: unknown): Check<MachineRef> {
	if (mode === 'dnsName') {
		const name = validateDnsName(value);
		return name.ok ? ok({ kind: 'dnsName', name: name.value }) : name;
	}
	const id = validateMachineId(value);
	return id.ok ? ok({ kind: 'id', id: id.value }) : id;
}

/** The device of an alert item (the Alert resource's `machineId`, full or simplified output). */
export function machineRefFromAlert(json: Record<string, unknown> | undefined): Check<MachineRef> {
	const raw = json?.machineId;
	if (raw === undefined || raw === null || raw === '') {
		const title = typeof json?.title === 'string' ? ` "${shorten(json.title, 60)}"` : '';
		const id = typeof json?.id === 'string' ? ` ${json.id}` : '';
		return fail(
			`The input item has no machineId: alert${id}${title} has no device`,
			'Machine Source "Alert in the Input Item" reads the machineId field of an alert from the Alert resource (Get, Get Many or the trigger). Alerts without a device cannot be acted on; filter them out first, or choose the machine by ID or DNS name.',
		);
	}
	const id = validateMachineId(raw, 'The alert\'s machineId');
	return id.ok ? ok({ kind: 'id', id: id.value }) : id;
}

export interface MachineSummary {
	id: string;
	computerDnsName?: unknown;
	lastSeen?: unknown;
	healthStatus?: unknown;
	machineTags?: unknown;
}

/**
 * Which listed machines a DNS name means: the exact name (case-insensitive), or, for a bare host name, every
 * machine whose first label is that name. Defender keeps a device's old record after a re-install, so one name
 * can mean two machines: callers report that as an error listing them, never pick one.
 */
export function matchDnsName<T extends MachineSummary>(name: string, machines: readonly T[]): T[] {
	const wanted = name.toLowerCase().replace(/\.$/, '');
	const bare = !wanted.includes('.');
	const seen = new Set<string>();
	const out: T[] = [];
	for (const m of machines) {
		const dns = typeof m.computerDnsName === 'string' ? m.computerDnsName.toLowerCase().replace(/\.$/, '') : '';
		if (!dns) continue;
		const hit = dns === wanted || (bare && dns.split('.')[0] === wanted);
		if (hit && !seen.has(m.id.toLowerCase())) {
			seen.add(m.id.toLowerCase());
			out.push(m);
		}
	}
	return out;
}

/** "id (dns, last seen …, health)" for each machine, for ambiguity messages. */
export function describeMachines(machines: readonly MachineSummary[], max = 10): string {
	const parts = machines.slice(0, max).map((m) => {
		const bits = [typeof m.computerDnsName === 'string' ? m.computerDnsName : undefined, typeof m.lastSeen === 'string' ? `last seen ${m.lastSeen}` : undefined, typeof m.healthStatus === 'string' ? m.healthStatus : undefined].filter(Boolean);
		return `${m.id}${bits.length ? ` (${bits.join(', ')})` : ''}`;
	});
	if (machines.length > max) parts.push(`and ${machines.length - max} more`);
	return parts.join('; ');
}

export function resolveDnsMatches<T extends MachineSummary>(name: string, tenant: string, machines: readonly T[]): Check<T> {
	const matches = matchDnsName(name, machines);
	if (matches.length === 1) return ok(matches[0]);
	if (matches.length === 0) {
		return fail(
			`No machine named "${name}" was found in tenant ${tenant}`,
			'Check the DNS name (Defender shows it as Computer DNS name, e.g. ws-0042.contoso.local), the customer tenant and the region; or give the 40-character device ID.',
		);
	}
	return fail(
		`The DNS name "${name}" matches ${matches.length} machines in tenant ${tenant}: ${describeMachines(matches)}`,
		'Nothing was sent. Defender keeps old device records (e.g. after a re-install), so a name can be ambiguous: give the machine by its ID (the one with the most recent last seen is usually the live device), or use its full DNS name.',
	);
}

// ------------------------------------------------------------------------------------------------ OData

export interface MachineFilterValues {
	healthStatus?: string[];
	riskScore?: string[];
	exposureLevel?: string[];
	osPlatform?: string[];
	tag?: string;
	/** `YYYY-MM-DDTHH:MM:SS(.fffffff)Z` */
	lastSeenAfter?: string;
	dnsNameStartsWith?: string;
}

function anyOf(field: string, values: string[] | undefined): string | undefined {
	if (!values || values.length === 0) return undefined;
	const parts = values.map((v) => `${field} eq ${odataString(v)}`);
	return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

/** `$filter` of List machines from validated values (the properties the page lists as filterable). */
export function buildMachineFilter(f: MachineFilterValues): string | undefined {
	const clauses = [
		anyOf('healthStatus', f.healthStatus),
		anyOf('riskScore', f.riskScore),
		anyOf('exposureLevel', f.exposureLevel),
		anyOf('osPlatform', f.osPlatform),
		f.tag !== undefined ? `machineTags/any(tag: tag eq ${odataString(f.tag)})` : undefined,
		f.lastSeenAfter ? `lastSeen gt ${f.lastSeenAfter}` : undefined,
		f.dnsNameStartsWith ? `startswith(computerDnsName,${odataString(f.dnsNameStartsWith)})` : undefined,
	].filter((c): c is string => c !== undefined);
	return clauses.length ? clauses.join(' and ') : undefined;
}

export interface ActionFilterValues {
	machineId?: string;
	status?: string[];
	type?: string[];
	requestor?: string;
	createdAfter?: string;
}

/** `$filter` of List MachineActions (filterable: id, status, machineId, type, requestor, creationDateTimeUtc). */
export function buildActionFilter(f: ActionFilterValues): string | undefined {
	const clauses = [
		f.machineId ? `machineId eq ${odataString(f.machineId)}` : undefined,
		anyOf('status', f.status),
		anyOf('type', f.type),
		f.requestor ? `requestor eq ${odataString(f.requestor)}` : undefined,
		f.createdAfter ? `creationDateTimeUtc ge ${f.createdAfter}` : undefined,
	].filter((c): c is string => c !== undefined);
	return clauses.length ? clauses.join(' and ') : undefined;
}

/**
 * IDs per list call when several actions (or machines) are read together: `id eq 'a' or id eq 'b' …`. 25 GUIDs
 * keep the encoded query near 1,500 characters, under the 2,048 that common front ends accept (the API documents
 * no limit for the query length, nor one for `or` terms).
 */
export const IDS_PER_CALL = 25;

export function idFilter(ids: readonly string[]): string {
	return ids.map((id) => `id eq ${odataString(id)}`).join(' or ');
}

export function chunk<T>(list: readonly T[], size: number): T[][] {
	const out: T[][] = [];
	const n = Math.max(1, Math.floor(size));
	for (let k = 0; k < list.length; k += n) out.push(list.slice(k, k + n));
	return out;
}

/** `startswith` candidates for a DNS name: the name itself (bare names also match `name.suffix`). */
export function dnsLookupFilter(name: string): string {
	return `startswith(computerDnsName,${odataString(name.toLowerCase())})`;
}

// ------------------------------------------------------------------------------------------------ guard-rails

export const MAX_MACHINES_DEFAULT = 10;
export const MAX_MACHINES_LIMIT = 10_000;

export interface MachineCount {
	/** distinct machines this run would act on, not yet acted on earlier in the execution */
	fresh: number;
	/** machines acted on earlier in this execution (by this node) */
	earlier: number;
	max: number;
}

/** Max Machines per Execution: fine, or the message that stops the run before anything is sent. */
export function checkMaxMachines(c: MachineCount, counting: 'references' | 'machines'): Check<number> {
	const total = c.fresh + c.earlier;
	if (total <= c.max) return ok(total);
	const earlier = c.earlier > 0 ? `, plus ${c.earlier} acted on earlier in this execution` : '';
	const how = counting === 'references' ? ' (each machine ID, DNS name or alert device counts once; a DNS name counts as its own machine)' : '';
	return fail(
		`Max Machines per Execution exceeded: this would act on ${c.fresh} machine${c.fresh === 1 ? '' : 's'}${earlier} — ${total} in all, ${c.max} allowed${how}. Nothing was sent.`,
		`This guard-rail stops a loop or a bad filter from acting on a whole fleet. If ${total} machines is intended, raise "Max Machines per Execution" on this node to at least ${total} (it counts distinct machines per node and execution, across loop iterations); otherwise check the input items.`,
	);
}

/** The Exclude Tags a machine carries (case-insensitive). */
export function excludedTagsOf(machine: { machineTags?: unknown }, exclude: readonly string[]): string[] {
	if (exclude.length === 0) return [];
	const tags = Array.isArray(machine.machineTags) ? machine.machineTags.filter((t): t is string => typeof t === 'string') : [];
	const wanted = new Set(exclude.map((t) => t.toLowerCase()));
	return tags.filter((t) => wanted.has(t.toLowerCase()));
}

/**
 * Machines acted on per (execution, node): n8n runs a node once per loop iteration inside one execution, so the
 * count must survive between runs. Process-wide (one execution runs in one process, also in queue mode), bounded.
 */
export class MachineLedger {
	private readonly runs = new Map<string, { machines: Set<string>; aliases: Map<string, string> }>();

	constructor(private readonly maxKeys = 1000) {}

	private entry(key: string) {
		let e = this.runs.get(key);
		if (!e) {
			e = { machines: new Set(), aliases: new Map() };
			this.runs.set(key, e);
			if (this.runs.size > this.maxKeys) {
				const oldest = this.runs.keys().next().value;
				if (oldest !== undefined) this.runs.delete(oldest);
			}
		}
		return e;
	}

	/** machine keys (`tenant|machineId`) already acted on */
	machines(key: string): ReadonlySet<string> {
		return this.runs.get(key)?.machines ?? new Set();
	}

	/** the machine a reference key (`tenant|dns:name`) resolved to earlier, if any */
	alias(key: string, ref: string): string | undefined {
		return this.runs.get(key)?.aliases.get(ref);
	}

	record(key: string, machineKeys: Iterable<string>, aliases: Iterable<[string, string]> = []): void {
		const e = this.entry(key);
		for (const m of machineKeys) e.machines.add(m);
		for (const [ref, m] of aliases) e.aliases.set(ref, m);
	}

	reset(): void {
		this.runs.clear();
	}
}

export const machineLedger = new MachineLedger();

// ------------------------------------------------------------------------------------------------ waiting

export const WAIT_DEFAULTS = { maxWaitSeconds: 600, pollIntervalSeconds: 15 };
export const WAIT_LIMITS = { maxWaitSeconds: 24 * 3600, minPollSeconds: 1, maxPollSeconds: 3600 };

export interface WaitEntry {
	/** the action's ID */
	id: string;
	/** the backend/tenant group it is polled through */
	group: string;
	/** epoch ms after which it is no longer polled */
	deadline: number;
	pollMs: number;
	status: string;
}

/**
 * The wait-for-completion plan: every pending action of every item, polled together. Each round reads the
 * pending actions of a group with one list call per IDS_PER_CALL IDs (`$filter=id eq … or id eq …`), not one
 * call per action; an action leaves the plan when its status is final or its item's Max Wait has passed.
 */
export class WaitPlan {
	private readonly entries = new Map<string, WaitEntry>();

	add(entry: WaitEntry): void {
		const key = `${entry.group}|${entry.id}`;
		const existing = this.entries.get(key);
		// Items sharing one action: the longest wait and the shortest interval win.
		if (existing) {
			existing.deadline = Math.max(existing.deadline, entry.deadline);
			existing.pollMs = Math.min(existing.pollMs, entry.pollMs);
			return;
		}
		this.entries.set(key, { ...entry });
	}

	/** actions still to poll at `now` */
	pending(now: number): WaitEntry[] {
		return [...this.entries.values()].filter((e) => !isTerminalStatus(e.status) && e.deadline > now);
	}

	/** how long to sleep before the next round; undefined = nothing left to wait for */
	nextDelay(now: number): number | undefined {
		const pending = this.pending(now);
		if (pending.length === 0) return undefined;
		const interval = Math.min(...pending.map((e) => e.pollMs));
		const untilDeadline = Math.min(...pending.map((e) => e.deadline - now));
		return Math.max(0, Math.min(interval, untilDeadline));
	}

	/** the list calls of one round: per group, chunks of IDs */
	round(now: number, idsPerCall = IDS_PER_CALL): Array<{ group: string; ids: string[] }> {
		const byGroup = new Map<string, string[]>();
		for (const e of this.pending(now)) {
			const list = byGroup.get(e.group) ?? [];
			list.push(e.id);
			byGroup.set(e.group, list);
		}
		const calls: Array<{ group: string; ids: string[] }> = [];
		for (const [group, ids] of byGroup) for (const part of chunk(ids, idsPerCall)) calls.push({ group, ids: part });
		return calls;
	}

	update(group: string, id: string, status: string): void {
		const e = this.entries.get(`${group}|${id}`);
		if (e && typeof status === 'string') e.status = status;
	}

	status(group: string, id: string): string | undefined {
		return this.entries.get(`${group}|${id}`)?.status;
	}

	size(): number {
		return this.entries.size;
	}
}

/** Status calls of the naive approach (one GET per action per round), for the benchmark's comparison. */
export function naivePollCalls(actions: number, rounds: number): number {
	return actions * rounds;
}
