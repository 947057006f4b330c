/**
 * Microsoft Graph advanced hunting on the emulator's tenant stores: `POST /v1.0/security/runHuntingQuery` with
 * `{"Query": "<KQL>", "Timespan": "<ISO 8601>"}` → `{schema: [{name, type}], results: [...]}`
 * (https://learn.microsoft.com/en-us/graph/api/security-security-runhuntingquery). The query runs through a small,
 * real KQL interpreter over tables derived from each tenant's data:
 *
 *   AlertInfo            one row per alert          AlertEvidence   one row per alert entity (device, files, users, …)
 *   DeviceInfo           one row per machine        DeviceProcessEvents  one row per stored hunting event
 *
 * Operators: `where` (== != =~ !~ < <= > >= contains !contains has !has startswith endswith in !in, and / or / not(),
 * parentheses; functions ago(), now(), datetime(), isempty(), isnotempty()), `take`/`limit N`, `project a, b`,
 * `order by`/`sort by x [asc|desc], …` (default desc, as KQL), `top N by x [asc|desc]`, `distinct a, b`, `count`.
 * Literals: "…" or '…' strings, numbers, true/false, timespans (7d, 12h, 30m, 10s, 100ms). `//` comments. Column and
 * table names are case-sensitive, as in KQL. Anything else is a 400 naming the unsupported construct: the emulator
 * never pretends to run what it cannot.
 *
 * Lookback: rows with a Timestamp older than the Timespan (default 30 days) or after an interval's end are not seen.
 * Limits (https://learn.microsoft.com/en-us/graph/api/resources/security-api-overview,
 * https://learn.microsoft.com/en-us/defender-xdr/api-advanced-hunting): `maxRows` (100,000; beyond it a 400, or the
 * rows cut off with `rowLimit: 'truncate'`: the service's behaviour is not documented), 45 calls per minute per app
 * and tenant (429 with Retry-After), and forced faults for what data alone cannot cause: a timeout (~3 minutes; 400 or
 * 504, undocumented) and the CPU quota (429 or 400, undocumented). Roles: ThreatHunting.Read.All, else 403. Auth (the
 * token's audience must be Microsoft Graph) is GraphService's, before this module is called.
 */
import { guid, isPlainObject, jsonReply, type Reply } from './http-util';
import type { EmulatorClock } from './clock';
import type { TenantStore } from './store';

export const HUNTING_ROLES = ['ThreatHunting.Read.All'];

export interface HuntingSettings {
	/** rows a query may return (documented: 100,000) */
	maxRows: number;
	/** beyond maxRows: a 400 (default) or the first maxRows rows (undocumented which) */
	rowLimit: 'error' | 'truncate';
	/** calls per app and tenant per window (documented: at least 45 per minute); null: no limit */
	rateLimit: { limit: number; windowMs: number } | null;
	/** status of a timed-out query (undocumented: 400 with a Kusto message, or 504) */
	timeoutStatus: 400 | 504;
	/** status of a CPU-quota failure (undocumented: 429 with Retry-After, or 400) */
	cpuQuotaStatus: 429 | 400;
	/** answer with capitalised property names (`Schema`, `Results`, `Name`, `Type`): the casing is undocumented */
	pascalCase: boolean;
	/** accept a Timespan interval `start/end` besides a duration (undocumented) */
	intervals: boolean;
}

export const DEFAULT_HUNTING_SETTINGS: HuntingSettings = {
	maxRows: 100_000,
	rowLimit: 'error',
	rateLimit: { limit: 45, windowMs: 60_000 },
	timeoutStatus: 400,
	cpuQuotaStatus: 429,
	pascalCase: false,
	intervals: true,
};

export type HuntingFault = 'timeout' | 'cpuQuota' | 'throttle';

export interface HuntingLogEntry {
	seq: number;
	tenantId: string;
	clientId: string;
	query: string;
	timespan?: string;
	status: number;
	rows?: number;
}

export interface HuntingPrincipal {
	tenantId: string;
	clientId: string;
	roles: string[];
}

export interface HuntingRequest {
	method: string;
	host: string;
	body: Buffer;
	contentType: string;
	clientRequestId?: string;
}

/** A KQL failure: HTTP status, Graph error code, message. */
export class HuntingError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}
}

export function isHuntingPath(segments: string[]): boolean {
	return segments.length === 2 && segments[0].toLowerCase() === 'security' && segments[1].toLowerCase() === 'runhuntingquery';
}

// ================================================================================================ values and tables

type ColumnType = 'String' | 'DateTime' | 'Int64' | 'Boolean';
interface Column {
	name: string;
	type: ColumnType;
}
type Row = Record<string, unknown>;
interface Table {
	columns: Column[];
	rows: Row[];
}

/** KQL scalar types of the interpreter. */
type KType = 'string' | 'long' | 'real' | 'bool' | 'datetime' | 'timespan' | 'dynamic' | 'null';
const KTYPE: Record<ColumnType, KType> = { String: 'string', DateTime: 'datetime', Int64: 'long', Boolean: 'bool' };

const cols = (spec: string): Column[] =>
	spec.split(/\s*,\s*/).map((s) => {
		const [name, type] = s.split(':');
		return { name, type: (type ?? 'String') as ColumnType };
	});

const ALERT_INFO = cols('Timestamp:DateTime, AlertId, Title, Category, Severity, ServiceSource, DetectionSource, AttackTechniques');
const ALERT_EVIDENCE = cols(
	'Timestamp:DateTime, AlertId, Title, Categories, AttackTechniques, ServiceSource, DetectionSource, EntityType, EvidenceRole, FileName, FolderPath, SHA1, SHA256, RemoteIP, RemoteUrl, AccountName, AccountDomain, AccountSid, AccountObjectId, AccountUpn, DeviceId, DeviceName, ProcessCommandLine, RegistryKey',
);
const DEVICE_INFO = cols('Timestamp:DateTime, DeviceId, DeviceName, OSPlatform, OSVersion, OSBuild:Int64, PublicIP, MachineGroup, OnboardingStatus, SensorHealthState, ExposureLevel, IsAzureADJoined:Boolean');
const DEVICE_PROCESS_EVENTS = cols('Timestamp:DateTime, DeviceId, DeviceName, ActionType, FileName, FolderPath, SHA1, ProcessCommandLine, AccountName, AccountDomain, ReportId:Int64');

const DETECTION_SOURCE: Record<string, string> = {
	WindowsDefenderAtp: 'EDR',
	WindowsDefenderAv: 'Antivirus',
	WindowsDefenderSmartScreen: 'SmartScreen',
	CustomerTI: 'Custom TI',
	CustomDetection: 'Custom detection',
	AutomatedInvestigation: 'Automated investigation',
	ThreatExperts: 'Microsoft Threat Experts',
	MTP: 'Microsoft 365 Defender',
};

function tablesOf(store: TenantStore, nowTicks: bigint): Record<string, () => Table> {
	const visible = () => store.alerts.filter((s) => store.isVisible(s, nowTicks)).map((s) => s.alert);
	return {
		AlertInfo: () => ({
			columns: ALERT_INFO,
			rows: visible().map((a) => ({
				Timestamp: a.alertCreationTime,
				AlertId: a.id,
				Title: a.title,
				Category: a.category,
				Severity: a.severity,
				ServiceSource: 'Microsoft Defender for Endpoint',
				DetectionSource: DETECTION_SOURCE[a.detectionSource] ?? a.detectionSource,
				AttackTechniques: JSON.stringify(a.mitreTechniques),
			})),
		}),
		AlertEvidence: () => ({
			columns: ALERT_EVIDENCE,
			rows: visible().flatMap((a) => {
				const common = {
					Timestamp: a.alertCreationTime,
					AlertId: a.id,
					Title: a.title,
					Categories: JSON.stringify([a.category]),
					AttackTechniques: JSON.stringify(a.mitreTechniques),
					ServiceSource: 'Microsoft Defender for Endpoint',
					DetectionSource: DETECTION_SOURCE[a.detectionSource] ?? a.detectionSource,
				};
				const empty = Object.fromEntries(ALERT_EVIDENCE.map((c) => [c.name, null]));
				const out: Row[] = [];
				if (a.machineId) out.push({ ...empty, ...common, EntityType: 'Machine', EvidenceRole: 'Impacted', DeviceId: a.machineId, DeviceName: a.computerDnsName });
				for (const e of a.evidence) {
					out.push({
						...empty,
						...common,
						EntityType: e.entityType === 'Registry' ? 'RegistryKey' : e.entityType,
						EvidenceRole: e.entityType === 'User' || e.entityType === 'Machine' ? 'Impacted' : 'Related',
						FileName: e.fileName,
						FolderPath: e.filePath,
						SHA1: e.sha1,
						SHA256: e.sha256,
						RemoteIP: e.ipAddress,
						RemoteUrl: e.url,
						AccountName: e.accountName,
						AccountDomain: e.domainName,
						AccountSid: e.userSid,
						AccountObjectId: e.aadUserId,
						AccountUpn: e.userPrincipalName,
						DeviceId: a.machineId,
						DeviceName: a.computerDnsName,
						ProcessCommandLine: e.processCommandLine,
						RegistryKey: e.registryKey,
					});
				}
				return out;
			}),
		}),
		DeviceInfo: () => ({
			columns: DEVICE_INFO,
			rows: [...store.entities.machines.values()].map((m) => ({
				Timestamp: m.lastSeen,
				DeviceId: m.id,
				DeviceName: m.computerDnsName,
				OSPlatform: m.osPlatform,
				OSVersion: m.osVersion,
				OSBuild: m.osBuild,
				PublicIP: m.lastExternalIpAddress,
				MachineGroup: m.rbacGroupName,
				OnboardingStatus: m.onboardingStatus,
				SensorHealthState: m.healthStatus,
				ExposureLevel: m.exposureLevel,
				IsAzureADJoined: m.isAadJoined,
			})),
		}),
		DeviceProcessEvents: () => ({
			columns: DEVICE_PROCESS_EVENTS,
			rows: store.entities.events.map((e) => ({
				Timestamp: e.eventTime,
				DeviceId: e.machineId,
				DeviceName: store.machine(e.machineId)?.computerDnsName ?? null,
				ActionType: e.actionType,
				FileName: e.fileName,
				FolderPath: e.folderPath,
				SHA1: e.sha1,
				ProcessCommandLine: e.processCommandLine,
				AccountName: e.accountName,
				AccountDomain: e.accountDomain,
				ReportId: Number(e.reportId),
			})),
		}),
	};
}

// ================================================================================================ lexer

type Tok =
	| { t: 'id'; v: string; at: number }
	| { t: 'str'; v: string; at: number }
	| { t: 'num'; v: number; real: boolean; at: number }
	| { t: 'span'; v: number; at: number }
	| { t: 'op'; v: string; at: number }
	| { t: 'end'; at: number };

const SPAN_UNITS: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1, tick: 0.0001 };
const OPS = ['==', '!=', '=~', '!~', '>=', '<=', '>', '<', '|', ',', '(', ')', '='];

function lex(text: string): Tok[] {
	const out: Tok[] = [];
	let i = 0;
	while (i < text.length) {
		const c = text[i];
		if (/\s/.test(c)) {
			i++;
			continue;
		}
		if (c === '/' && text[i + 1] === '/') {
			while (i < text.length && text[i] !== '\n') i++;
			continue;
		}
		if (c === '"' || c === "'") {
			let j = i + 1;
			let v = '';
			while (j < text.length && text[j] !== c) {
				if (text[j] === '\\' && j + 1 < text.length) {
					const n = text[j + 1];
					v += n === 'n' ? '\n' : n === 't' ? '\t' : n;
					j += 2;
				} else v += text[j++];
			}
			if (j >= text.length) throw syntaxError(text, i);
			out.push({ t: 'str', v, at: i });
			i = j + 1;
			continue;
		}
		const num = /^(\d+(?:\.\d+)?)(ms|d|h|m|s|tick)?(?![A-Za-z0-9_])/.exec(text.slice(i));
		if (num) {
			if (num[2]) out.push({ t: 'span', v: Number(num[1]) * SPAN_UNITS[num[2]], at: i });
			else out.push({ t: 'num', v: Number(num[1]), real: num[1].includes('.'), at: i });
			i += num[0].length;
			continue;
		}
		const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
		if (id) {
			out.push({ t: 'id', v: id[0], at: i });
			i += id[0].length;
			// datetime(2025-03-01T10:00:00Z): the literal's text up to ')' is one token
			const literal = id[0] === 'datetime' ? /^\s*\(([^)]*)\)/.exec(text.slice(i)) : null;
			if (literal) {
				out.push({ t: 'op', v: '(', at: i }, { t: 'str', v: literal[1].trim().replace(/^["']|["']$/g, ''), at: i + 1 }, { t: 'op', v: ')', at: i + literal[0].length - 1 });
				i += literal[0].length;
			}
			continue;
		}
		// `!contains`, `!has`, `!in`, `!startswith` … are one operator
		if (c === '!' && /^[a-z]/.test(text[i + 1] ?? '')) {
			const w = /^![a-z_]+/.exec(text.slice(i))![0];
			out.push({ t: 'op', v: w, at: i });
			i += w.length;
			continue;
		}
		const op = OPS.find((o) => text.startsWith(o, i));
		if (!op) throw syntaxError(text, i);
		out.push({ t: 'op', v: op, at: i });
		i += op.length;
	}
	out.push({ t: 'end', at: text.length });
	return out;
}

function position(text: string, at: number): string {
	const before = text.slice(0, at).split('\n');
	return `[${before.length},${before[before.length - 1].length + 1}]`;
}

function syntaxError(text: string, at: number): HuntingError {
	const near = text.slice(at).trim().split(/\s+/)[0] || '<end of query>';
	return new HuntingError(400, 'BadRequest', `Syntax error: Query could not be parsed at '${near.slice(0, 40)}' on line ${position(text, at)}`);
}

function semanticError(message: string): HuntingError {
	return new HuntingError(400, 'BadRequest', `Semantic error: ${message}`);
}

// ================================================================================================ parser

type Expr =
	| { k: 'col'; name: string }
	| { k: 'lit'; type: KType; v: unknown }
	| { k: 'bin'; op: string; l: Expr; r: Expr }
	| { k: 'in'; neg: boolean; l: Expr; list: Expr[] }
	| { k: 'and' | 'or'; l: Expr; r: Expr }
	| { k: 'not'; e: Expr }
	| { k: 'fn'; name: 'isempty' | 'isnotempty'; e: Expr };

interface SortKey {
	name: string;
	desc: boolean;
}

type Stage =
	| { op: 'where'; e: Expr }
	| { op: 'take'; n: number }
	| { op: 'project'; names: string[] }
	| { op: 'order'; keys: SortKey[] }
	| { op: 'top'; n: number; keys: SortKey[] }
	| { op: 'distinct'; names: string[] }
	| { op: 'count' };

interface Pipeline {
	table: string;
	stages: Stage[];
}

const STRING_OPS = new Set(['contains', '!contains', 'has', '!has', 'startswith', '!startswith', 'endswith', '!endswith', 'contains_cs', '!contains_cs', 'has_cs', '!has_cs']);
const COMPARE_OPS = new Set(['==', '!=', '=~', '!~', '<', '<=', '>', '>=']);
const SUPPORTED_STAGES = 'where, take, limit, project, order by, sort by, top, distinct, count';

class Parser {
	private p = 0;
	constructor(
		private readonly text: string,
		private readonly toks: Tok[],
		private readonly nowMs: number,
	) {}

	private peek(): Tok {
		return this.toks[this.p];
	}
	private next(): Tok {
		return this.toks[this.p++];
	}
	private fail(tok: Tok = this.peek()): HuntingError {
		return syntaxError(this.text, tok.at);
	}
	private isOp(v: string): boolean {
		const t = this.peek();
		return t.t === 'op' && t.v === v;
	}
	private isWord(v: string): boolean {
		const t = this.peek();
		return t.t === 'id' && t.v === v;
	}
	private expectOp(v: string): void {
		if (!this.isOp(v)) throw this.fail();
		this.p++;
	}
	private ident(): string {
		const t = this.next();
		if (t.t !== 'id') throw this.fail(t);
		return t.v;
	}
	private integer(): number {
		const t = this.next();
		if (t.t !== 'num' || t.real) throw this.fail(t);
		return t.v;
	}

	parse(): Pipeline {
		const first = this.peek();
		if (first.t !== 'id') throw this.fail();
		const table = this.ident();
		const stages: Stage[] = [];
		while (this.isOp('|')) {
			this.p++;
			stages.push(this.stage());
		}
		if (this.peek().t !== 'end') throw this.fail();
		return { table, stages };
	}

	private stage(): Stage {
		const t = this.peek();
		if (t.t !== 'id') throw this.fail();
		const word = t.v;
		this.p++;
		switch (word) {
			case 'where':
			case 'filter':
				return { op: 'where', e: this.expr() };
			case 'take':
			case 'limit':
				return { op: 'take', n: this.integer() };
			case 'project':
				return { op: 'project', names: this.names() };
			case 'distinct':
				return { op: 'distinct', names: this.names() };
			case 'count':
				return { op: 'count' };
			case 'order':
			case 'sort':
				if (!this.isWord('by')) throw this.fail();
				this.p++;
				return { op: 'order', keys: this.sortKeys() };
			case 'top': {
				const n = this.integer();
				if (!this.isWord('by')) throw this.fail();
				this.p++;
				return { op: 'top', n, keys: this.sortKeys() };
			}
			default:
				if (/^[a-z][a-z-]*$/.test(word)) {
					throw new HuntingError(400, 'BadRequest', `The emulator's KQL subset does not support the '${word}' operator (supported: ${SUPPORTED_STAGES}).`);
				}
				throw this.fail(t);
		}
	}

	private names(): string[] {
		const out = [this.ident()];
		while (this.isOp(',')) {
			this.p++;
			out.push(this.ident());
		}
		if (this.isOp('=')) throw new HuntingError(400, 'BadRequest', "The emulator's KQL subset does not support renaming or computed columns in 'project'.");
		return out;
	}

	private sortKeys(): SortKey[] {
		const keys: SortKey[] = [];
		for (;;) {
			const name = this.ident();
			let desc = true;
			if (this.isWord('asc') || this.isWord('desc')) desc = this.ident() === 'desc';
			keys.push({ name, desc });
			if (!this.isOp(',')) return keys;
			this.p++;
		}
	}

	private expr(): Expr {
		let l = this.andExpr();
		while (this.isWord('or')) {
			this.p++;
			l = { k: 'or', l, r: this.andExpr() };
		}
		return l;
	}

	private andExpr(): Expr {
		let l = this.cmp();
		while (this.isWord('and')) {
			this.p++;
			l = { k: 'and', l, r: this.cmp() };
		}
		return l;
	}

	private cmp(): Expr {
		const l = this.primary();
		const t = this.peek();
		const op = t.t === 'op' ? t.v : t.t === 'id' ? t.v : '';
		if (COMPARE_OPS.has(op) || STRING_OPS.has(op)) {
			this.p++;
			return { k: 'bin', op, l, r: this.primary() };
		}
		if (op === 'in' || op === '!in') {
			this.p++;
			this.expectOp('(');
			const list = [this.primary()];
			while (this.isOp(',')) {
				this.p++;
				list.push(this.primary());
			}
			this.expectOp(')');
			return { k: 'in', neg: op === '!in', l, list };
		}
		return l;
	}

	private primary(): Expr {
		const t = this.next();
		switch (t.t) {
			case 'str':
				return { k: 'lit', type: 'string', v: t.v };
			case 'num':
				return { k: 'lit', type: t.real ? 'real' : 'long', v: t.v };
			case 'span':
				return { k: 'lit', type: 'timespan', v: t.v };
			case 'op':
				if (t.v === '(') {
					const e = this.expr();
					this.expectOp(')');
					return e;
				}
				throw this.fail(t);
			case 'id': {
				if (t.v === 'true' || t.v === 'false') return { k: 'lit', type: 'bool', v: t.v === 'true' };
				if (!this.isOp('(')) return { k: 'col', name: t.v };
				this.p++;
				return this.call(t.v);
			}
			default:
				throw this.fail(t);
		}
	}

	private call(name: string): Expr {
		const close = () => this.expectOp(')');
		switch (name) {
			case 'now':
				close();
				return { k: 'lit', type: 'datetime', v: this.nowMs };
			case 'ago': {
				const span = this.next();
				if (span.t !== 'span') throw this.fail(span);
				close();
				return { k: 'lit', type: 'datetime', v: this.nowMs - span.v };
			}
			case 'datetime': {
				// datetime(2025-03-01) or datetime(2025-03-01T10:00:00Z): the lexer made the text one token
				const raw = this.next();
				if (raw.t !== 'str') throw this.fail(raw);
				close();
				const iso = /^\d{4}-\d{2}-\d{2}$/.test(raw.v) ? `${raw.v}T00:00:00Z` : /[zZ]$|[+-]\d{2}:\d{2}$/.test(raw.v) ? raw.v : `${raw.v}Z`;
				const ms = /^\d{4}-\d{2}-\d{2}/.test(iso) ? Date.parse(iso) : NaN;
				if (Number.isNaN(ms)) throw syntaxError(this.text, raw.at);
				return { k: 'lit', type: 'datetime', v: ms };
			}
			case 'not': {
				const e = this.expr();
				close();
				return { k: 'not', e };
			}
			case 'isempty':
			case 'isnotempty': {
				const e = this.primary();
				close();
				return { k: 'fn', name, e };
			}
			default:
				throw new HuntingError(400, 'BadRequest', `The emulator's KQL subset does not support the function '${name}()' (supported: ago, now, datetime, not, isempty, isnotempty).`);
		}
	}
}

// ================================================================================================ types and evaluation

function typeName(t: KType): string {
	return t;
}

/** A column by its exact (case-sensitive) name, or KQL's semantic error with a hint for a miscased name. */
function resolveColumn(columns: Column[], name: string, stage: string): Column {
	const c = columns.find((x) => x.name === name);
	if (c) return c;
	const other = columns.find((x) => x.name.toLowerCase() === name.toLowerCase());
	throw semanticError(`'${stage}' operator: Failed to resolve scalar expression named '${name}'${other ? ` (did you mean '${other.name}'? names are case-sensitive)` : ''}`);
}

/** Static type of an expression over the columns; unknown columns are the semantic error KQL gives. */
function typeOf(e: Expr, columns: Column[], stage: string): KType {
	switch (e.k) {
		case 'col':
			return KTYPE[resolveColumn(columns, e.name, stage).type];
		case 'lit':
			return e.type;
		case 'and':
		case 'or':
		case 'not':
		case 'fn':
			for (const x of e.k === 'not' || e.k === 'fn' ? [e.e] : [e.l, e.r]) {
				const t = typeOf(x, columns, stage);
				if (e.k !== 'fn' && t !== 'bool') throw semanticError(`'${stage}' operator: the operands of '${e.k}' must be of type bool, not ${typeName(t)}`);
			}
			return 'bool';
		case 'in': {
			const l = typeOf(e.l, columns, stage);
			for (const x of e.list) {
				const r = typeOf(x, columns, stage);
				if (!comparable(l, r)) throw semanticError(`'${stage}' operator: Cannot compare values of types ${typeName(l)} and ${typeName(r)}. Try adding explicit casts`);
			}
			return 'bool';
		}
		case 'bin': {
			const l = typeOf(e.l, columns, stage);
			const r = typeOf(e.r, columns, stage);
			if (STRING_OPS.has(e.op)) {
				if (l !== 'string' || r !== 'string') throw semanticError(`'${stage}' operator: '${e.op}' needs string operands, not ${typeName(l)} and ${typeName(r)}`);
			} else if ((e.op === '=~' || e.op === '!~') && (l !== 'string' || r !== 'string')) {
				throw semanticError(`'${stage}' operator: '${e.op}' needs string operands, not ${typeName(l)} and ${typeName(r)}`);
			} else if (!comparable(l, r)) {
				throw semanticError(`'${stage}' operator: Cannot compare values of types ${typeName(l)} and ${typeName(r)}. Try adding explicit casts`);
			}
			return 'bool';
		}
	}
}

function comparable(a: KType, b: KType): boolean {
	const numeric = (t: KType) => t === 'long' || t === 'real';
	return a === b || (numeric(a) && numeric(b)) || a === 'null' || b === 'null';
}

function cellValue(row: Row, column: Column): unknown {
	const v = row[column.name];
	if (v === null || v === undefined) return null;
	if (column.type === 'DateTime') return Date.parse(String(v));
	return v;
}

function evaluate(e: Expr, row: Row, columns: Column[]): unknown {
	switch (e.k) {
		case 'col':
			return cellValue(row, columns.find((c) => c.name === e.name)!);
		case 'lit':
			return e.v;
		case 'and':
			return evaluate(e.l, row, columns) === true && evaluate(e.r, row, columns) === true;
		case 'or':
			return evaluate(e.l, row, columns) === true || evaluate(e.r, row, columns) === true;
		case 'not':
			return evaluate(e.e, row, columns) !== true;
		case 'fn': {
			const v = evaluate(e.e, row, columns);
			const empty = v === null || v === '';
			return e.name === 'isempty' ? empty : !empty;
		}
		case 'in': {
			const v = evaluate(e.l, row, columns);
			const hit = e.list.some((x) => v !== null && evaluate(x, row, columns) === v);
			return e.neg ? !hit : hit;
		}
		case 'bin': {
			const l = evaluate(e.l, row, columns);
			const r = evaluate(e.r, row, columns);
			const neg = e.op.startsWith('!') && e.op !== '!=' && e.op !== '!~';
			const op = neg ? e.op.slice(1) : e.op;
			if (l === null || r === null) return op === '!=' || op === '!~' ? l !== r : neg;
			const cs = op.endsWith('_cs');
			const ls = String(l);
			const rs = String(r);
			const li = cs ? ls : ls.toLowerCase();
			const ri = cs ? rs : rs.toLowerCase();
			let result: boolean;
			switch (op) {
				case '==':
					result = l === r;
					break;
				case '!=':
					result = l !== r;
					break;
				case '=~':
					result = ls.toLowerCase() === rs.toLowerCase();
					break;
				case '!~':
					result = ls.toLowerCase() !== rs.toLowerCase();
					break;
				case '<':
					result = (l as number) < (r as number);
					break;
				case '<=':
					result = (l as number) <= (r as number);
					break;
				case '>':
					result = (l as number) > (r as number);
					break;
				case '>=':
					result = (l as number) >= (r as number);
					break;
				case 'contains':
				case 'contains_cs':
					result = li.includes(ri);
					break;
				case 'has':
				case 'has_cs': {
					const escaped = ri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
					result = new RegExp(`(^|[^a-z0-9])${escaped}($|[^a-z0-9])`, cs ? '' : 'i').test(li);
					break;
				}
				case 'startswith':
					result = li.startsWith(ri);
					break;
				case 'endswith':
					result = li.endsWith(ri);
					break;
				default:
					result = false;
			}
			return neg ? !result : result;
		}
	}
}

function compareCells(a: unknown, b: unknown, desc: boolean): number {
	// KQL: nulls last when descending, first when ascending
	if (a === null || a === undefined) return b === null || b === undefined ? 0 : desc ? 1 : -1;
	if (b === null || b === undefined) return desc ? -1 : 1;
	const c = typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
	return desc ? -c : c;
}

function sortRows(table: Table, keys: SortKey[], stage: string): Row[] {
	const columns = keys.map((k) => ({ c: resolveColumn(table.columns, k.name, stage), desc: k.desc }));
	return [...table.rows].sort((x, y) => {
		for (const { c, desc } of columns) {
			const r = compareCells(cellValue(x, c), cellValue(y, c), desc);
			if (r !== 0) return r;
		}
		return 0;
	});
}

function pick(table: Table, names: string[], stage: string): Column[] {
	return names.map((n) => resolveColumn(table.columns, n, stage));
}

/** Run a parsed pipeline over a table (already restricted to the lookback window). */
function run(pipeline: Pipeline, input: Table): Table {
	let table = input;
	for (const s of pipeline.stages) {
		switch (s.op) {
			case 'where': {
				typeOf(s.e, table.columns, 'where');
				const columns = table.columns;
				table = { columns, rows: table.rows.filter((r) => evaluate(s.e, r, columns) === true) };
				break;
			}
			case 'take':
				table = { columns: table.columns, rows: table.rows.slice(0, s.n) };
				break;
			case 'project': {
				const picked = pick(table, s.names, 'project');
				table = { columns: picked, rows: table.rows.map((r) => Object.fromEntries(picked.map((c) => [c.name, r[c.name] ?? null]))) };
				break;
			}
			case 'distinct': {
				const picked = pick(table, s.names, 'distinct');
				const seen = new Set<string>();
				const rows: Row[] = [];
				for (const r of table.rows) {
					const row = Object.fromEntries(picked.map((c) => [c.name, r[c.name] ?? null]));
					const key = JSON.stringify(picked.map((c) => row[c.name]));
					if (!seen.has(key)) {
						seen.add(key);
						rows.push(row);
					}
				}
				table = { columns: picked, rows };
				break;
			}
			case 'order':
				table = { columns: table.columns, rows: sortRows(table, s.keys, 'order') };
				break;
			case 'top':
				table = { columns: table.columns, rows: sortRows(table, s.keys, 'top').slice(0, s.n) };
				break;
			case 'count':
				table = { columns: [{ name: 'Count', type: 'Int64' }], rows: [{ Count: table.rows.length }] };
				break;
		}
	}
	return table;
}

// ================================================================================================ timespan

const DURATION = /^P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

function duration(text: string): number | undefined {
	const m = DURATION.exec(text);
	if (!m) return undefined;
	const n = m.map((v) => (v === undefined ? 0 : Number(v)));
	return ((n[1] * 365 + n[2] * 30 + n[3] * 7 + n[4]) * 24 + n[5]) * 3_600_000 + n[6] * 60_000 + n[7] * 1000;
}

/** The lookback window [from, to] in ms for a Timespan (default 30 days before now). */
function window(timespan: string | undefined, nowMs: number, intervals: boolean): { from: number; to: number } {
	if (timespan === undefined) return { from: nowMs - 30 * 86_400_000, to: Infinity };
	const d = duration(timespan);
	if (d !== undefined && d > 0) return { from: nowMs - d, to: Infinity };
	const parts = timespan.split('/');
	if (intervals && parts.length === 2) {
		const from = Date.parse(parts[0]);
		const end = Date.parse(parts[1]);
		const span = duration(parts[1]);
		if (!Number.isNaN(from) && /T/.test(parts[0]) && (!Number.isNaN(end) || span !== undefined)) {
			const to = Number.isNaN(end) ? from + (span as number) : end;
			if (to > from) return { from, to };
		}
	}
	throw new HuntingError(400, 'BadRequest', `The value '${timespan}' of 'Timespan' is not a valid ISO 8601 ${intervals ? 'duration or interval' : 'duration'}.`);
}

// ================================================================================================ service

export class HuntingService {
	settings: HuntingSettings = structuredClone(DEFAULT_HUNTING_SETTINGS);
	private readonly faults: Array<{ kind: HuntingFault; retryAfter: number }> = [];
	private readonly hits = new Map<string, number[]>();
	private readonly log: HuntingLogEntry[] = [];
	private seq = 0;

	constructor(
		private readonly clock: EmulatorClock,
		private readonly storeFor: (tenantId: string) => TenantStore,
		private readonly monotonicNow: () => number = () => performance.now(),
	) {}

	configure(partial: Partial<HuntingSettings>): HuntingSettings {
		this.settings = { ...this.settings, ...structuredClone(partial) };
		return structuredClone(this.settings);
	}

	reset(): void {
		this.settings = structuredClone(DEFAULT_HUNTING_SETTINGS);
		this.faults.length = 0;
		this.hits.clear();
		this.log.length = 0;
	}

	/** The next `count` hunting calls fail as `kind` (throttle: 429; cpuQuota: per cpuQuotaStatus; timeout: per timeoutStatus). */
	failNext(kind: HuntingFault, count = 1, retryAfterSeconds = 1): void {
		for (let k = 0; k < count; k++) this.faults.push({ kind, retryAfter: retryAfterSeconds });
	}

	/** Hunting calls handled (after authentication), oldest first. */
	queries(filter: { tenantId?: string; sinceSeq?: number } = {}): HuntingLogEntry[] {
		return this.log.filter((e) => (filter.tenantId === undefined || e.tenantId === filter.tenantId) && (filter.sinceSeq === undefined || e.seq > filter.sinceSeq)).map((e) => ({ ...e }));
	}

	lastSeq(): number {
		return this.seq;
	}

	/** Run one KQL query on a tenant's data, as the endpoint would (no auth, limits or faults): for tests. */
	evaluate(tenantId: string, query: string, timespan?: string): { schema: Column[]; results: Row[] } {
		const table = this.execute(tenantId, query, timespan);
		return { schema: table.columns, results: table.rows };
	}

	private execute(tenantId: string, query: string, timespan: string | undefined): Table {
		const nowMs = this.clock.nowMs();
		const pipeline = new Parser(query, lex(query), nowMs).parse();
		const tables = tablesOf(this.storeFor(tenantId), this.clock.nowTicks());
		const source = Object.prototype.hasOwnProperty.call(tables, pipeline.table) ? tables[pipeline.table] : undefined;
		if (!source) {
			const other = Object.keys(tables).find((t) => t.toLowerCase() === pipeline.table.toLowerCase());
			throw semanticError(`Failed to resolve table or column expression named '${pipeline.table}'${other ? ` (did you mean '${other}'? names are case-sensitive)` : ''}`);
		}
		const { from, to } = window(timespan, nowMs, this.settings.intervals);
		const input = source();
		const ts = input.columns.find((c) => c.name === 'Timestamp')!;
		const inWindow = input.rows.filter((r) => {
			const t = cellValue(r, ts) as number | null;
			return t !== null && t >= from && t <= to;
		});
		return run(pipeline, { columns: input.columns, rows: inWindow });
	}

	private rateLimit(principal: HuntingPrincipal): void {
		const rule = this.settings.rateLimit;
		if (!rule) return;
		const key = `${principal.clientId}|${principal.tenantId}`;
		const now = this.monotonicNow();
		const list = (this.hits.get(key) ?? []).filter((t) => t > now - rule.windowMs);
		this.hits.set(key, list);
		if (list.length >= rule.limit) {
			const freeAt = list[list.length - rule.limit] + rule.windowMs;
			throw new HuntingError(429, 'TooManyRequests', 'Too many requests: advanced hunting allows a limited number of calls per minute per tenant.', {
				'retry-after': String(Math.max(1, Math.ceil((freeAt - now) / 1000))),
			});
		}
		list.push(now);
	}

	handle(req: HuntingRequest, principal: HuntingPrincipal): Reply {
		const entry: HuntingLogEntry = { seq: ++this.seq, tenantId: principal.tenantId, clientId: principal.clientId, query: '', status: 0 };
		this.log.push(entry);
		if (this.log.length > 100_000) this.log.splice(0, this.log.length - 100_000);
		let reply: Reply;
		try {
			reply = this.answer(req, principal, entry);
		} catch (error) {
			reply = this.errorReply(error, req);
		}
		entry.status = reply.status;
		return reply;
	}

	private answer(req: HuntingRequest, principal: HuntingPrincipal, entry: HuntingLogEntry): Reply {
		if (req.method !== 'POST') throw new HuntingError(405, 'MethodNotAllowed', `The requested resource does not support http method '${req.method}'.`);
		this.rateLimit(principal);
		if (!HUNTING_ROLES.some((r) => principal.roles.includes(r))) {
			throw new HuntingError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${HUNTING_ROLES.join(', ')}'. Roles on the request '${principal.roles.join(', ')}'.`);
		}
		const body = this.body(req);
		const field = (name: string): unknown => {
			const key = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
			return key === undefined ? undefined : body[key];
		};
		const query = field('Query');
		const timespan = field('Timespan');
		if (typeof query !== 'string' || query.trim() === '') throw new HuntingError(400, 'BadRequest', "The parameter 'Query' is required and must be a non-empty string.");
		if (timespan !== undefined && timespan !== null && typeof timespan !== 'string') throw new HuntingError(400, 'BadRequest', "The parameter 'Timespan' must be a string.");
		entry.query = query;
		if (typeof timespan === 'string') entry.timespan = timespan;

		const fault = this.faults.shift();
		if (fault?.kind === 'throttle') throw new HuntingError(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(fault.retryAfter) });
		if (fault?.kind === 'cpuQuota') {
			throw new HuntingError(
				this.settings.cpuQuotaStatus,
				this.settings.cpuQuotaStatus === 429 ? 'TooManyRequests' : 'BadRequest',
				'You have exceeded the CPU quota for advanced hunting queries in this tenant. Try again later or make the query more efficient.',
				this.settings.cpuQuotaStatus === 429 ? { 'retry-after': String(fault.retryAfter) } : {},
			);
		}
		if (fault?.kind === 'timeout') {
			throw new HuntingError(
				this.settings.timeoutStatus,
				this.settings.timeoutStatus === 504 ? 'GatewayTimeout' : 'BadRequest',
				'Query execution has exceeded the allowed limits: the query was canceled because it exceeded the allowed execution time (3 minutes).',
			);
		}

		const table = this.execute(principal.tenantId, query, typeof timespan === 'string' && timespan.trim() ? timespan.trim() : undefined);
		let rows = table.rows;
		if (rows.length > this.settings.maxRows) {
			if (this.settings.rowLimit === 'error') {
				throw new HuntingError(400, 'BadRequest', `Query result set has exceeded the internal record count limit ${this.settings.maxRows} (E_QUERY_RESULT_SET_TOO_LARGE).`);
			}
			rows = rows.slice(0, this.settings.maxRows);
		}
		entry.rows = rows.length;
		const pascal = this.settings.pascalCase;
		const schema = table.columns.map((c) => (pascal ? { Name: c.name, Type: c.type } : { name: c.name, type: c.type }));
		return jsonReply(200, {
			'@odata.context': `https://${req.host}/v1.0/$metadata#microsoft.graph.security.huntingQueryResults`,
			[pascal ? 'Schema' : 'schema']: schema,
			[pascal ? 'Results' : 'results']: rows,
		});
	}

	private body(req: HuntingRequest): Record<string, unknown> {
		const text = req.body.toString('utf8').trim();
		const mediaType = req.contentType.split(';')[0].trim().toLowerCase();
		if (text && mediaType !== 'application/json') throw new HuntingError(415, 'UnsupportedMediaType', `Content-Type must be application/json (received '${req.contentType || 'none'}').`);
		let parsed: unknown;
		try {
			parsed = text ? JSON.parse(text) : undefined;
		} catch {
			throw new HuntingError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
		}
		if (!isPlainObject(parsed)) throw new HuntingError(400, 'BadRequest', "The request body must be a JSON object with 'Query' (and optionally 'Timespan').");
		return parsed;
	}

	private errorReply(error: unknown, req: HuntingRequest): Reply {
		const e = error instanceof HuntingError ? error : new HuntingError(500, 'InternalServerError', error instanceof Error ? error.message : String(error));
		const requestId = guid();
		const reply = jsonReply(
			e.status,
			{ error: { code: e.code, message: e.message, innerError: { date: new Date(this.clock.nowMs()).toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': req.clientRequestId ?? requestId } } },
			{ 'request-id': requestId, ...e.headers },
		);
		reply.errorCode = e.code;
		return reply;
	}
}

/**
 * Control API under `/_emulator/graph/hunting`: `GET|POST` (settings; `{reset: true}`), `POST fail {kind, count,
 * retryAfter}`, `GET queries?tenantId&sinceSeq` (`{value, lastSeq}`). `segments`: the path after `hunting`.
 */
export function huntingControl(service: HuntingService, req: { method: string; segments: string[]; query: URLSearchParams; body: Buffer }): Reply {
	const [what] = req.segments;
	const text = req.body.toString('utf8').trim();
	const body = text ? (JSON.parse(text) as unknown) : {};
	if (what === undefined) {
		if (req.method === 'GET') return jsonReply(200, service.settings);
		if (req.method === 'POST' && isPlainObject(body)) {
			if (body.reset === true) service.reset();
			const { reset: _reset, ...settings } = body;
			void _reset;
			return jsonReply(200, service.configure(settings as Partial<HuntingSettings>));
		}
	}
	if (what === 'fail' && req.method === 'POST' && isPlainObject(body)) {
		const kind = String(body.kind);
		if (!['timeout', 'cpuQuota', 'throttle'].includes(kind)) throw new Error("kind must be 'timeout', 'cpuQuota' or 'throttle'");
		service.failNext(kind as HuntingFault, Number(body.count ?? 1), Number(body.retryAfter ?? 1));
		return jsonReply(200, { ok: true });
	}
	if (what === 'queries' && req.method === 'GET') {
		const since = req.query.get('sinceSeq');
		return jsonReply(200, { value: service.queries({ tenantId: req.query.get('tenantId') ?? undefined, sinceSeq: since === null ? undefined : Number(since) }), lastSeq: service.lastSeq() });
	}
	throw new Error(`Unknown control endpoint ${req.method} /_emulator/graph/hunting/${req.segments.join('/')}`);
}
