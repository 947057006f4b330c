/**
 * Defender for Endpoint machines and machine actions for the emulator:
 *  - `GET /api/machines` (OData `$filter` with eq/ne/gt/ge/lt/le, and/or/not, `startswith(field,'x')` and
 *    `machineTags/any(t: t eq 'x')`; `$top`, `$skip`), `GET /api/machines/{id or computer name}`,
 *    `GET /api/machines/findbyip(ip='…',timestamp=…)` (±15 minutes, last 30 days), `GET /api/machines/findbytag`,
 *    `POST /api/machines/{id}/tags`, `GET /api/machines/{id}/logonusers`, `GET /api/machines/{id}/alerts`;
 *  - the response actions `POST /api/machines/{id}/{isolate|unisolate|runAntiVirusScan|restrictCodeExecution|
 *    unrestrictCodeExecution|collectInvestigationPackage|StopAndQuarantineFile|offboard}` (PascalCase bodies,
 *    case-sensitive; 201 + MachineAction), `GET /api/machineactions` (same OData), `GET /api/machineactions/{id}`,
 *    `POST /api/machineactions/{id}/cancel`, `GET /api/machineactions/{id}/GetPackageUri`.
 *
 * Actions live on the emulator clock: Pending for `pendingMs`, InProgress for `inProgressMs`, then their outcome
 * (Succeeded, or what `setOutcome` says for the machine; an Inactive device times out). A second action of the
 * same type on a machine while one is not final answers 400 ActiveRequestAlreadyExists. Roles per endpoint as the
 * API pages list them; rate-limit classes `machines`, `machineActions`, `packageUri`.
 *
 * Facts: https://learn.microsoft.com/en-us/defender-endpoint/api/machine,
 * https://learn.microsoft.com/en-us/defender-endpoint/api/machineaction and the endpoint pages they link.
 * Not documented, chosen here: the wording of ActiveRequestAlreadyExists and of the package-not-ready 404; the
 * order of List MachineActions (creation order); string comparisons are case-sensitive, as OData's are.
 */
import { fromTicks, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import type { EmulatorClock } from './clock';
import { apiError, guid, isPlainObject, jsonReply, odataReply, type Reply } from './http-util';
import { ODataQueryError } from './odata';
import { makeMachine, Rng, TICKS_PER_MS, TICKS_PER_SECOND } from './seed';
import type { TenantStore } from './store';
import type { EndpointClass, Machine } from './types';

export const MACHINE_READ_ROLES = ['Machine.Read.All', 'Machine.ReadWrite.All'];
const ALERT_READ_ROLES = ['Alert.Read.All', 'Alert.ReadWrite.All'];
const CANCEL_ROLES = ['Machine.CollectForensics', 'Machine.Isolate', 'Machine.RestrictExecution', 'Machine.Scan', 'Machine.Offboard', 'Machine.StopAndQuarantine', 'Machine.LiveResponse'];

export const ACTION_STATUSES = ['Pending', 'InProgress', 'Succeeded', 'Failed', 'TimeOut', 'Cancelled'] as const;
export type ActionOutcome = 'Succeeded' | 'Failed' | 'TimeOut';

/** Path segment (lowercase) → action type, role, allowed body fields. */
const ACTIONS: Record<string, { type: string; role: string; fields: string[] }> = {
	isolate: { type: 'Isolate', role: 'Machine.Isolate', fields: ['Comment', 'IsolationType'] },
	unisolate: { type: 'Unisolate', role: 'Machine.Isolate', fields: ['Comment'] },
	runantivirusscan: { type: 'RunAntiVirusScan', role: 'Machine.Scan', fields: ['Comment', 'ScanType'] },
	restrictcodeexecution: { type: 'RestrictCodeExecution', role: 'Machine.RestrictExecution', fields: ['Comment'] },
	unrestrictcodeexecution: { type: 'UnrestrictCodeExecution', role: 'Machine.RestrictExecution', fields: ['Comment'] },
	collectinvestigationpackage: { type: 'CollectInvestigationPackage', role: 'Machine.CollectForensics', fields: ['Comment'] },
	stopandquarantinefile: { type: 'StopAndQuarantineFile', role: 'Machine.StopAndQuarantine', fields: ['Comment', 'Sha1'] },
	offboard: { type: 'Offboard', role: 'Machine.Offboard', fields: ['Comment'] },
};

export interface MachineAction {
	id: string;
	type: string;
	title: string;
	requestor: string;
	requestorComment: string;
	status: string;
	machineId: string;
	computerDnsName: string | null;
	creationDateTimeUtc: string;
	lastUpdateDateTimeUtc: string;
	cancellationRequestor: string | null;
	cancellationComment: string | null;
	cancellationDateTimeUtc: string | null;
	errorHResult: number;
	scope: string | null;
	externalId: string | null;
	requestSource: string;
	relatedFileInfo: { fileIdentifier: string; fileIdentifierType: string } | null;
	commands: unknown[];
	troubleshootInfo: null;
}

interface StoredAction {
	tenantId: string;
	base: MachineAction;
	createdTicks: bigint;
	pendingTicks: bigint;
	inProgressTicks: bigint;
	outcome: ActionOutcome;
	cancelledTicks?: bigint;
	cancellationRequestor?: string;
	cancellationComment?: string;
}

export interface MachineActionTiming {
	/** emulator-clock ms an action stays Pending (default 2000) */
	pendingMs: number;
	/** then InProgress for this long (default 3000) */
	inProgressMs: number;
}

export interface LogonUser {
	id: string;
	accountName: string;
	accountDomain: string;
	firstSeen: string;
	lastSeen: string;
	logonTypes: string;
	isDomainAdmin: boolean;
	isOnlyNetworkUser: boolean;
}

export interface FleetOptions {
	/** machines to create (default 20) */
	count?: number;
	seed?: string;
	/** DNS name prefix (default "ws-") */
	prefix?: string;
	/** every n-th machine carries this tag (default critical-server on every 5th) */
	criticalTag?: string;
	criticalEvery?: number;
	/** also create a second, older record with the DNS name of the first machine (a re-installed device) */
	duplicateDnsName?: boolean;
}

/** A route as DefenderService takes it (see defender.ts `Route`). */
interface MachineRoute {
	endpointClass: EndpointClass;
	roles: string[];
	allowed: string[];
	handle: (req: ApiRequestLike, principal: { tenantId: string; clientId: string; roles: string[] }, store: TenantStore) => Reply;
}

interface ApiRequestLike {
	method: string;
	host: string;
	segments: string[];
	basePath: string;
	query: URLSearchParams;
	body: Buffer;
	contentType: string;
}

// =============================================================================================== OData ($filter)

type FieldType = 'string' | 'datetime' | 'int' | 'collection';
type Field = { name: string; type: FieldType };
type Literal = { kind: 'string'; value: string } | { kind: 'datetime'; ticks: bigint } | { kind: 'int'; value: number } | { kind: 'null' } | { kind: 'bool'; value: boolean };
type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
type Node =
	| { type: 'and' | 'or'; left: Node; right: Node }
	| { type: 'not'; operand: Node }
	| { type: 'cmp'; field: Field; op: Op; literal: Literal }
	| { type: 'func'; name: 'startswith' | 'endswith' | 'contains'; field: Field; value: string }
	| { type: 'any'; field: Field; op: Op; literal: Literal };

export const MACHINE_FILTER_FIELDS: readonly Field[] = [
	{ name: 'id', type: 'string' },
	{ name: 'computerDnsName', type: 'string' },
	{ name: 'lastSeen', type: 'datetime' },
	{ name: 'healthStatus', type: 'string' },
	{ name: 'osPlatform', type: 'string' },
	{ name: 'riskScore', type: 'string' },
	{ name: 'exposureLevel', type: 'string' },
	{ name: 'onboardingStatus', type: 'string' },
	{ name: 'lastIpAddress', type: 'string' },
	{ name: 'deviceValue', type: 'string' },
	{ name: 'aadDeviceId', type: 'string' },
	{ name: 'version', type: 'string' },
	{ name: 'rbacGroupId', type: 'int' },
	{ name: 'machineTags', type: 'collection' },
];

export const ACTION_FILTER_FIELDS: readonly Field[] = [
	{ name: 'id', type: 'string' },
	{ name: 'status', type: 'string' },
	{ name: 'machineId', type: 'string' },
	{ name: 'type', type: 'string' },
	{ name: 'requestor', type: 'string' },
	{ name: 'creationDateTimeUtc', type: 'datetime' },
];

interface Token {
	t: 'ident' | 'string' | 'datetime' | 'int' | '(' | ')' | ',' | ':' | 'eof';
	text: string;
	pos: number;
}

const DATETIME_RE = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})/y;
const INT_RE = /-?\d+/y;
const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*(?:\/[A-Za-z_][A-Za-z0-9_]*)*/y;

function tokenize(src: string): Token[] {
	const out: Token[] = [];
	let i = 0;
	const sticky = (re: RegExp) => {
		re.lastIndex = i;
		return re.exec(src)?.[0];
	};
	while (i < src.length) {
		const c = src[i];
		if (/\s/.test(c)) {
			i++;
			continue;
		}
		if ('(),:'.includes(c)) {
			out.push({ t: c as Token['t'], text: c, pos: i++ });
			continue;
		}
		if (c === "'") {
			let v = '';
			let j = i + 1;
			for (;;) {
				if (j >= src.length) throw new ODataQueryError(`Syntax error at position ${i} in '${src}'. Unterminated string literal.`);
				if (src[j] === "'") {
					if (src[j + 1] === "'") {
						v += "'";
						j += 2;
						continue;
					}
					break;
				}
				v += src[j++];
			}
			out.push({ t: 'string', text: v, pos: i });
			i = j + 1;
			continue;
		}
		const dt = /[0-9]/.test(c) ? sticky(DATETIME_RE) : undefined;
		if (dt) {
			out.push({ t: 'datetime', text: dt, pos: i });
			i += dt.length;
			continue;
		}
		const n = /[0-9-]/.test(c) ? sticky(INT_RE) : undefined;
		if (n) {
			out.push({ t: 'int', text: n, pos: i });
			i += n.length;
			continue;
		}
		const id = sticky(IDENT_RE);
		if (id) {
			out.push({ t: 'ident', text: id, pos: i });
			i += id.length;
			continue;
		}
		throw new ODataQueryError(`Syntax error at position ${i} in '${src}'. Unexpected character '${c}'.`);
	}
	out.push({ t: 'eof', text: '', pos: src.length });
	return out;
}

const OPS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

class FilterParser {
	private k = 0;
	constructor(
		private readonly src: string,
		private readonly tokens: Token[],
		private readonly fields: readonly Field[],
		private readonly entity: string,
	) {}

	private peek(): Token {
		return this.tokens[this.k];
	}
	private next(): Token {
		return this.tokens[this.k++];
	}
	private expect(t: Token['t']): Token {
		const tok = this.next();
		if (tok.t !== t) throw new ODataQueryError(`Syntax error at position ${tok.pos} in '${this.src}'. '${t}' expected, found '${tok.text || 'end of input'}'.`);
		return tok;
	}
	private isWord(tok: Token, word: string): boolean {
		return tok.t === 'ident' && tok.text === word;
	}

	parse(): Node {
		if (this.peek().t === 'eof') throw new ODataQueryError('The $filter query option must not be empty.');
		const node = this.or();
		if (this.peek().t !== 'eof') throw new ODataQueryError(`Syntax error at position ${this.peek().pos} in '${this.src}'. Expected 'and', 'or' or the end of the expression.`);
		return node;
	}

	private or(): Node {
		let left = this.and();
		while (this.isWord(this.peek(), 'or')) {
			this.next();
			left = { type: 'or', left, right: this.and() };
		}
		return left;
	}

	private and(): Node {
		let left = this.unary();
		while (this.isWord(this.peek(), 'and')) {
			this.next();
			left = { type: 'and', left, right: this.unary() };
		}
		return left;
	}

	private unary(): Node {
		const tok = this.peek();
		if (this.isWord(tok, 'not')) {
			this.next();
			return { type: 'not', operand: this.unary() };
		}
		if (tok.t === '(') {
			this.next();
			const inner = this.or();
			this.expect(')');
			return inner;
		}
		return this.primary();
	}

	private field(name: string, pos: number): Field {
		const f = this.fields.find((x) => x.name.toLowerCase() === name.toLowerCase());
		if (!f) {
			throw new ODataQueryError(
				`Could not find a property named '${name}' on type '${this.entity}' (position ${pos}). Filterable properties: ${this.fields.map((x) => x.name).join(', ')}.`,
			);
		}
		return f;
	}

	private literal(): Literal {
		const tok = this.next();
		if (tok.t === 'string') return { kind: 'string', value: tok.text };
		if (tok.t === 'datetime') {
			try {
				return { kind: 'datetime', ticks: toTicks(tok.text) };
			} catch {
				throw new ODataQueryError(`The DateTimeOffset text '${tok.text}' is not valid.`);
			}
		}
		if (tok.t === 'int') return { kind: 'int', value: Number(tok.text) };
		if (this.isWord(tok, 'null')) return { kind: 'null' };
		if (this.isWord(tok, 'true') || this.isWord(tok, 'false')) return { kind: 'bool', value: tok.text === 'true' };
		throw new ODataQueryError(`Syntax error at position ${tok.pos} in '${this.src}'. A literal is expected, found '${tok.text || 'end of input'}'.`);
	}

	private op(): Op {
		const tok = this.next();
		if (tok.t === 'ident' && OPS.has(tok.text)) return tok.text as Op;
		if (tok.t === 'ident' && OPS.has(tok.text.toLowerCase())) throw new ODataQueryError(`Operators are lowercase in OData: use '${tok.text.toLowerCase()}'.`);
		throw new ODataQueryError(`Syntax error at position ${tok.pos} in '${this.src}'. Comparison operator expected, found '${tok.text || 'end of input'}'.`);
	}

	private checkType(field: Field, literal: Literal): void {
		if (literal.kind === 'null') return;
		const want = field.type === 'collection' ? 'string' : field.type;
		if (literal.kind !== want) {
			throw new ODataQueryError(
				`A binary operator with incompatible types was detected: '${field.name}' is ${field.type === 'datetime' ? 'Edm.DateTimeOffset' : field.type === 'int' ? 'Edm.Int64' : 'Edm.String'}, the literal is ${literal.kind}.` +
					(field.type === 'datetime' && literal.kind === 'string' ? ' DateTimeOffset literals are written without quotes.' : ''),
			);
		}
	}

	private primary(): Node {
		const tok = this.next();
		if (tok.t !== 'ident') throw new ODataQueryError(`Syntax error at position ${tok.pos} in '${this.src}'. A property or function is expected, found '${tok.text || 'end of input'}'.`);
		const lower = tok.text.toLowerCase();
		if (this.peek().t === '(' && ['startswith', 'endswith', 'contains'].includes(lower)) {
			this.next();
			const name = this.expect('ident');
			const field = this.field(name.text, name.pos);
			if (field.type !== 'string') throw new ODataQueryError(`The function '${lower}' needs a string property; '${field.name}' is not one.`);
			this.expect(',');
			const value = this.expect('string').text;
			this.expect(')');
			if (this.isWord(this.peek(), 'eq')) {
				this.next();
				const b = this.literal();
				if (b.kind !== 'bool') throw new ODataQueryError(`'${lower}(…) eq' needs true or false.`);
				const node: Node = { type: 'func', name: lower as 'startswith', field, value };
				return b.value ? node : { type: 'not', operand: node };
			}
			return { type: 'func', name: lower as 'startswith', field, value };
		}
		if (this.peek().t === '(' && !tok.text.includes('/')) throw new ODataQueryError(`An unknown function with name '${tok.text}' was found.`);
		const lambda = /^(.+)\/any$/i.exec(tok.text);
		if (lambda) {
			const field = this.field(lambda[1], tok.pos);
			if (field.type !== 'collection') throw new ODataQueryError(`'any' needs a collection property; '${field.name}' is not one.`);
			this.expect('(');
			const v = this.expect('ident').text;
			this.expect(':');
			const ref = this.expect('ident');
			if (ref.text !== v) throw new ODataQueryError(`Could not find a property named '${ref.text}' in the lambda of '${field.name}/any' (the range variable is '${v}').`);
			const op = this.op();
			const literal = this.literal();
			this.checkType(field, literal);
			this.expect(')');
			return { type: 'any', field, op, literal };
		}
		const field = this.field(tok.text, tok.pos);
		if (field.type === 'collection') throw new ODataQueryError(`'${field.name}' is a collection: use ${field.name}/any(t: t eq 'value').`);
		const op = this.op();
		const literal = this.literal();
		this.checkType(field, literal);
		return { type: 'cmp', field, op, literal };
	}
}

export function parseRecordFilter(src: string, fields: readonly Field[], entity: string): Node {
	return new FilterParser(src, tokenize(src), fields, entity).parse();
}

function compare(op: Op, c: number): boolean {
	return op === 'eq' ? c === 0 : op === 'ne' ? c !== 0 : op === 'gt' ? c > 0 : op === 'ge' ? c >= 0 : op === 'lt' ? c < 0 : c <= 0;
}

function cmpValue(raw: unknown, op: Op, literal: Literal): boolean {
	if (literal.kind === 'null') {
		const isNull = raw === null || raw === undefined;
		return op === 'eq' ? isNull : op === 'ne' ? !isNull : false;
	}
	if (raw === null || raw === undefined) return op === 'ne';
	let c: number;
	if (literal.kind === 'datetime') {
		const t = toTicks(String(raw));
		c = t < literal.ticks ? -1 : t > literal.ticks ? 1 : 0;
	} else if (literal.kind === 'int' || literal.kind === 'bool') {
		const v = Number(raw);
		const w = literal.kind === 'int' ? literal.value : Number(literal.value);
		c = v < w ? -1 : v > w ? 1 : 0;
	} else {
		const v = String(raw);
		c = v < literal.value ? -1 : v > literal.value ? 1 : 0;
	}
	return compare(op, c);
}

export function evaluateRecordFilter(node: Node, record: Record<string, unknown>): boolean {
	switch (node.type) {
		case 'and':
			return evaluateRecordFilter(node.left, record) && evaluateRecordFilter(node.right, record);
		case 'or':
			return evaluateRecordFilter(node.left, record) || evaluateRecordFilter(node.right, record);
		case 'not':
			return !evaluateRecordFilter(node.operand, record);
		case 'cmp':
			return cmpValue(record[node.field.name], node.op, node.literal);
		case 'func': {
			const v = record[node.field.name];
			if (typeof v !== 'string') return false;
			return node.name === 'startswith' ? v.startsWith(node.value) : node.name === 'endswith' ? v.endsWith(node.value) : v.includes(node.value);
		}
		case 'any': {
			const list = record[node.field.name];
			return Array.isArray(list) && list.some((item) => cmpValue(item, node.op, node.literal));
		}
	}
}

interface ListQuery {
	filter?: Node;
	top?: number;
	skip: number;
}

function parseListQuery(params: URLSearchParams, fields: readonly Field[], entity: string, maxTop: number): ListQuery {
	for (const key of params.keys()) {
		if (!key.startsWith('$')) continue;
		if (!['$filter', '$top', '$skip'].includes(key)) {
			throw new ODataQueryError(
				['$filter', '$top', '$skip'].includes(key.toLowerCase()) ? `The query parameter '${key}' is not supported. OData system query options are lowercase: '${key.toLowerCase()}'.` : `The query parameter '${key}' is not supported.`,
			);
		}
	}
	const int = (name: string, v: string): number => {
		if (!/^\d+$/.test(v.trim())) throw new ODataQueryError(`Invalid value '${v}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`);
		return Number(v.trim());
	};
	const q: ListQuery = { skip: 0 };
	const filter = params.get('$filter');
	if (filter !== null) q.filter = parseRecordFilter(filter, fields, entity);
	const top = params.get('$top');
	if (top !== null) {
		q.top = int('$top', top);
		if (q.top > maxTop) throw new ODataQueryError(`The limit of '${maxTop}' for Top query has been exceeded. The value from the incoming request is '${top}'.`);
	}
	const skip = params.get('$skip');
	if (skip !== null) q.skip = int('$skip', skip);
	return q;
}

// =============================================================================================== the service

export class MachineService {
	timing: MachineActionTiming = { pendingMs: 2000, inProgressMs: 3000 };
	private readonly actions: StoredAction[] = [];
	private readonly byId = new Map<string, StoredAction>();
	private readonly outcomes = new Map<string, ActionOutcome>();
	private readonly logonUsersOf = new Map<string, LogonUser[]>();

	constructor(
		private readonly clock: EmulatorClock,
		private readonly storeFor: (tenantId: string) => TenantStore,
		private readonly resolveTenant: (idOrDomain: string) => string | undefined,
		private readonly maxPageSize: () => number,
	) {}

	// ------------------------------------------------------------------------------------------- in-process API

	setTiming(timing: Partial<MachineActionTiming>): MachineActionTiming {
		for (const [k, v] of Object.entries(timing)) {
			if (v === undefined) continue;
			if (!(typeof v === 'number' && v >= 0)) throw new Error(`timing.${k} must be a number of milliseconds ≥ 0`);
			this.timing[k as keyof MachineActionTiming] = v;
		}
		return { ...this.timing };
	}

	/** What actions on this machine end with from now on (undefined: Succeeded, or TimeOut for an Inactive device). */
	setOutcome(tenantId: string, machineId: string, outcome: ActionOutcome | undefined): void {
		const key = `${tenantId}|${machineId.toLowerCase()}`;
		if (outcome === undefined) this.outcomes.delete(key);
		else if (['Succeeded', 'Failed', 'TimeOut'].includes(outcome)) this.outcomes.set(key, outcome);
		else throw new Error('outcome must be Succeeded, Failed or TimeOut');
	}

	/** Add machines (partial fields; the rest generated realistically). Returns them as stored. */
	addMachines(tenantId: string, inputs: Array<Partial<Machine>>): Machine[] {
		const store = this.storeFor(tenantId);
		const rng = new Rng(`${tenantId}|machines|${store.entities.machines.size}`);
		const now = this.clock.nowTicks();
		return inputs.map((input, k) => {
			const generated = makeMachine(rng, store.entities.profile, store.entities.machines.size + k, now - 120n * 86_400n * TICKS_PER_SECOND, now, input.id, input.computerDnsName);
			const machine: Machine = { ...generated, ...structuredClone(input) } as Machine;
			machine.id = machine.id.toLowerCase();
			if (input.lastIpAddress && !input.ipAddresses) machine.ipAddresses = [{ ...generated.ipAddresses[0], ipAddress: input.lastIpAddress }];
			store.entities.machines.set(machine.id, machine);
			return structuredClone(machine);
		});
	}

	/**
	 * A realistic fleet: `ws-001.<tenant>.local` …, every `criticalEvery`-th machine tagged `critical-server`, and
	 * optionally an old second record under the first machine's DNS name (as after a re-install).
	 */
	seedFleet(tenantId: string, options: FleetOptions = {}): Machine[] {
		const store = this.storeFor(tenantId);
		const count = options.count ?? 20;
		const prefix = options.prefix ?? 'ws-';
		const every = options.criticalEvery ?? 5;
		const tag = options.criticalTag ?? 'critical-server';
		const rng = new Rng(options.seed ?? `${tenantId}|fleet|${prefix}`);
		const width = Math.max(3, String(count).length);
		const now = this.clock.nowTicks();
		const inputs: Array<Partial<Machine>> = [];
		for (let k = 1; k <= count; k++) {
			const dns = `${prefix}${String(k).padStart(width, '0')}.${store.entities.profile.dnsSuffix}`;
			const ip = `10.${20 + (k >> 8)}.${k & 255}.${10 + (k % 200)}`;
			inputs.push({
				id: rng.hex(40),
				computerDnsName: dns,
				osPlatform: k % 7 === 0 ? 'Linux' : 'Windows11',
				healthStatus: 'Active',
				lastSeen: fromTicks(now - BigInt(rng.int(1, 600)) * TICKS_PER_SECOND),
				lastIpAddress: ip,
				machineTags: every > 0 && k % every === 0 ? [tag] : k % 3 === 0 ? ['Pilot'] : [],
				riskScore: k % 4 === 0 ? 'High' : 'Low',
				exposureLevel: k % 4 === 0 ? 'High' : 'Medium',
			});
		}
		if (options.duplicateDnsName && count > 0) {
			inputs.push({
				id: rng.hex(40),
				computerDnsName: String(inputs[0].computerDnsName),
				osPlatform: 'Windows10',
				healthStatus: 'Inactive',
				lastSeen: fromTicks(now - 45n * 86_400n * TICKS_PER_SECOND),
				lastIpAddress: `10.99.0.${rng.int(2, 250)}`,
				machineTags: [],
			});
		}
		return this.addMachines(tenantId, inputs);
	}

	/** Every action of a tenant as the API would serve it now (insertion order). */
	actionsOf(tenantId: string): MachineAction[] {
		return this.actions.filter((a) => a.tenantId === tenantId).map((a) => this.render(a));
	}

	action(id: string): MachineAction | undefined {
		const a = this.byId.get(id.toLowerCase());
		return a ? this.render(a) : undefined;
	}

	setLogonUsers(tenantId: string, machineId: string, users: LogonUser[]): void {
		this.logonUsersOf.set(`${tenantId}|${machineId.toLowerCase()}`, structuredClone(users));
	}

	reset(): void {
		this.actions.length = 0;
		this.byId.clear();
		this.outcomes.clear();
		this.logonUsersOf.clear();
		this.timing = { pendingMs: 2000, inProgressMs: 3000 };
	}

	// ------------------------------------------------------------------------------------------- control API

	/** `/_emulator/machine-api/…` (see test/emulator/README.md). */
	control(req: { method: string; segments: string[]; body: Buffer }): Reply {
		const [, a, tenant, what, id, sub] = req.segments;
		const text = req.body.toString('utf8').trim();
		const body: unknown = text ? JSON.parse(text) : {};
		const ok = (value: unknown = { ok: true }) => jsonReply(200, value);
		if (a === 'timing') {
			if (req.method === 'GET') return ok(this.timing);
			if (!isPlainObject(body)) throw new Error('Send {pendingMs?, inProgressMs?}');
			return ok(this.setTiming(body as Partial<MachineActionTiming>));
		}
		if (a === 'reset' && req.method === 'POST') {
			this.reset();
			return ok();
		}
		if (a !== 'tenants' || !tenant) throw new Error('Use /_emulator/machine-api/{timing|reset|tenants/{tenant}/…}');
		const tenantId = this.resolveTenant(tenant);
		if (!tenantId) throw new Error(`Unknown tenant ${tenant}`);
		if (what === 'machines' && id === undefined) {
			if (req.method === 'GET') return ok({ value: [...this.storeFor(tenantId).entities.machines.values()] });
			if (req.method === 'POST') {
				const list = Array.isArray(body) ? body : isPlainObject(body) && Array.isArray(body.machines) ? body.machines : undefined;
				if (list) return ok({ value: this.addMachines(tenantId, list as Array<Partial<Machine>>) });
				if (isPlainObject(body) && isPlainObject(body.fleet)) return ok({ value: this.seedFleet(tenantId, body.fleet as FleetOptions) });
				throw new Error('Send an array of partial machines, {machines:[…]} or {fleet:{count, prefix, criticalEvery, duplicateDnsName}}');
			}
		}
		if (what === 'machines' && id !== undefined && sub === 'outcome' && req.method === 'POST') {
			const outcome = isPlainObject(body) ? body.outcome : undefined;
			this.setOutcome(tenantId, id, outcome === null ? undefined : (outcome as ActionOutcome));
			return ok();
		}
		if (what === 'actions' && req.method === 'GET') return ok({ value: this.actionsOf(tenantId) });
		throw new Error(`Unknown control endpoint ${req.method} /_emulator/${req.segments.join('/')}`);
	}

	// ------------------------------------------------------------------------------------------- routing

	route(req: ApiRequestLike): MachineRoute | Reply | undefined {
		const s = req.segments;
		const lower = s.map((x) => x.toLowerCase());
		const notFound = () => apiError(404, 'NotFound', `No HTTP resource was found that matches the request URI '${req.basePath}/${s.join('/')}'.`);
		if (lower[0] === 'machines') {
			if (s.length === 1) return { endpointClass: 'machines', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, _p, st) => this.listMachines(r, st) };
			if (s.length === 2 && lower[1] === 'findbytag') return { endpointClass: 'machines', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, _p, st) => this.findByTag(r, st) };
			if (s.length === 2 && lower[1].startsWith('findbyip(')) return { endpointClass: 'machines', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, _p, st) => this.findByIp(r, st, s[1]) };
			const id = s[1];
			if (s.length === 2) return { endpointClass: 'machines', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, _p, st) => this.getMachine(r, st, id) };
			if (s.length === 3 && lower[2] === 'tags') return { endpointClass: 'machines', roles: ['Machine.ReadWrite.All'], allowed: ['POST'], handle: (r, _p, st) => this.tags(r, st, id) };
			if (s.length === 3 && lower[2] === 'logonusers') return { endpointClass: 'machines', roles: ['User.Read.All'], allowed: ['GET'], handle: (r, _p, st) => this.logonUsers(r, st, id) };
			if (s.length === 3 && lower[2] === 'alerts') return { endpointClass: 'machines', roles: ALERT_READ_ROLES, allowed: ['GET'], handle: (r, _p, st) => this.machineAlerts(r, st, id) };
			if (s.length === 3 && ACTIONS[lower[2]]) {
				const spec = ACTIONS[lower[2]];
				return { endpointClass: 'machineActions', roles: [spec.role], allowed: ['POST'], handle: (r, p, st) => this.runAction(r, p, st, id, spec) };
			}
			return notFound();
		}
		if (lower[0] === 'machineactions') {
			if (s.length === 1) return { endpointClass: 'machineActions', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, p) => this.listActions(r, p.tenantId) };
			const id = s[1];
			if (s.length === 2) return { endpointClass: 'machineActions', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, p) => this.getAction(r, p.tenantId, id) };
			if (s.length === 3 && lower[2] === 'cancel') return { endpointClass: 'machineActions', roles: CANCEL_ROLES, allowed: ['POST'], handle: (r, p) => this.cancel(r, p, id) };
			if (s.length === 3 && lower[2] === 'getpackageuri') return { endpointClass: 'packageUri', roles: MACHINE_READ_ROLES, allowed: ['GET'], handle: (r, p) => this.packageUri(r, p.tenantId, id) };
			return notFound();
		}
		return undefined;
	}

	private context(req: ApiRequestLike, fragment: string): string {
		return `https://${req.host}/api/$metadata#${fragment}`;
	}

	private machineNotFound(id: string): Reply {
		return apiError(404, 'ResourceNotFound', `Machine ${id} was not found`);
	}

	private find(store: TenantStore, idOrName: string): Machine | undefined {
		const key = idOrName.toLowerCase();
		const byId = store.entities.machines.get(key);
		if (byId) return byId;
		// Get machine by ID also takes the computer name.
		return [...store.entities.machines.values()].find((m) => m.computerDnsName.toLowerCase() === key);
	}

	private page<T>(req: ApiRequestLike, fragment: string, items: T[], q: ListQuery, path: string): Reply {
		const size = q.top ?? this.maxPageSize();
		const body: Record<string, unknown> = { '@odata.context': this.context(req, fragment), value: items.slice(q.skip, q.skip + size) };
		if (q.top === undefined && items.length > q.skip + size) {
			const params: string[] = [];
			for (const [k, v] of req.query) if (k !== '$skip') params.push(`${encodeURIComponent(k).replace(/%24/g, '$')}=${encodeURIComponent(v)}`);
			params.push(`$skip=${q.skip + size}`);
			body['@odata.nextLink'] = `https://${req.host}${req.basePath}/${path}?${params.join('&')}`;
		}
		return odataReply(200, body);
	}

	// ------------------------------------------------------------------------------------------- machines

	private listMachines(req: ApiRequestLike, store: TenantStore): Reply {
		const q = parseListQuery(req.query, MACHINE_FILTER_FIELDS, 'microsoft.windowsDefenderATP.api.PublicMachine', this.maxPageSize());
		const items = [...store.entities.machines.values()].filter((m) => !q.filter || evaluateRecordFilter(q.filter, m as unknown as Record<string, unknown>));
		return this.page(req, 'Machines', items.map((m) => structuredClone(m)), q, 'machines');
	}

	private getMachine(req: ApiRequestLike, store: TenantStore, id: string): Reply {
		const m = this.find(store, id);
		if (!m) return this.machineNotFound(id);
		return odataReply(200, { '@odata.context': this.context(req, 'Machines/$entity'), ...structuredClone(m) });
	}

	private findByTag(req: ApiRequestLike, store: TenantStore): Reply {
		const tag = req.query.get('tag');
		if (!tag) return apiError(400, 'MissingRequiredParameter', "Required parameter 'tag' is missing.");
		const startsWith = (req.query.get('useStartsWithFilter') ?? 'false').toLowerCase() === 'true';
		const items = [...store.entities.machines.values()].filter((m) => m.machineTags.some((t) => (startsWith ? t.toLowerCase().startsWith(tag.toLowerCase()) : t.toLowerCase() === tag.toLowerCase())));
		return odataReply(200, { '@odata.context': this.context(req, 'Machines'), value: items.map((m) => structuredClone(m)) });
	}

	private findByIp(req: ApiRequestLike, store: TenantStore, segment: string): Reply {
		const m = /^findbyip\(\s*ip\s*=\s*'([^']*)'\s*,\s*timestamp\s*=\s*([^)]+?)\s*\)$/i.exec(segment);
		if (!m) return apiError(400, 'InvalidInput', `Invalid input: expected findbyip(ip='<ip>',timestamp=<ISO 8601 time>), got '${segment}'.`);
		const ip = m[1];
		if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(ip) && !ip.includes(':')) return apiError(400, 'InvalidIpAddress', `Invalid IP address '${ip}'.`);
		let ticks: bigint;
		try {
			if (!/(Z|[+-]\d{2}:\d{2})$/.test(m[2])) throw new Error('zone');
			ticks = toTicks(m[2]);
		} catch {
			return apiError(400, 'InvalidInput', `Invalid timestamp '${m[2]}': use an ISO 8601 UTC time such as 2025-03-04T09:15:22Z.`);
		}
		const now = this.clock.nowTicks();
		if (ticks < now - 30n * 86_400n * TICKS_PER_SECOND) return apiError(400, 'InvalidInput', 'The timestamp must be within the last 30 days.');
		const window = 15n * 60n * TICKS_PER_SECOND;
		const items = [...store.entities.machines.values()].filter(
			(x) =>
				(x.lastIpAddress === ip || x.ipAddresses.some((a) => a.ipAddress === ip)) && toTicks(x.lastSeen) >= ticks - window && toTicks(x.firstSeen) <= ticks + window,
		);
		return odataReply(200, { '@odata.context': this.context(req, 'Machines'), value: items.map((x) => structuredClone(x)) });
	}

	private jsonBody(req: ApiRequestLike): { body: Record<string, unknown> } | { reply: Reply } {
		if (req.contentType.split(';')[0].trim().toLowerCase() !== 'application/json') {
			return { reply: apiError(400, 'InvalidRequestBody', `Request body is incorrect: Content-Type must be application/json (received '${req.contentType || 'none'}').`) };
		}
		try {
			const parsed = JSON.parse(req.body.toString('utf8')) as unknown;
			if (!isPlainObject(parsed)) return { reply: apiError(400, 'InvalidRequestBody', 'Request body is incorrect: a JSON object is expected.') };
			return { body: parsed };
		} catch {
			return { reply: apiError(400, 'InvalidRequestBody', 'Request body is incorrect: the body is not valid JSON.') };
		}
	}

	/** Unknown or miscased property names: 400 InvalidRequestBody (bodies are case-sensitive). */
	private unknownField(body: Record<string, unknown>, allowed: string[]): Reply | undefined {
		for (const key of Object.keys(body)) {
			if (allowed.includes(key)) continue;
			const same = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
			return apiError(
				400,
				'InvalidRequestBody',
				same
					? `Request body is incorrect: unknown property '${key}'. Property names are case-sensitive; did you mean '${same}'?`
					: `Request body is incorrect: unknown property '${key}'. Allowed properties: ${allowed.join(', ')}.`,
			);
		}
		return undefined;
	}

	private tags(req: ApiRequestLike, store: TenantStore, id: string): Reply {
		const parsed = this.jsonBody(req);
		if ('reply' in parsed) return parsed.reply;
		const b = parsed.body;
		const bad = this.unknownField(b, ['Value', 'Action']);
		if (bad) return bad;
		if (typeof b.Value !== 'string' || !b.Value.trim()) return apiError(400, 'MissingRequiredParameter', "Required parameter 'Value' is missing.");
		if (b.Action !== 'Add' && b.Action !== 'Remove') return apiError(400, 'InvalidRequestBody', "Request body is incorrect: 'Action' must be Add or Remove.");
		const m = this.find(store, id);
		if (!m) return this.machineNotFound(id);
		const value = b.Value.trim();
		if (b.Action === 'Add' && !m.machineTags.includes(value)) m.machineTags.push(value);
		if (b.Action === 'Remove') m.machineTags = m.machineTags.filter((t) => t !== value);
		return odataReply(200, { '@odata.context': this.context(req, 'Machines/$entity'), ...structuredClone(m) });
	}

	private logonUsers(req: ApiRequestLike, store: TenantStore, id: string): Reply {
		const m = this.find(store, id);
		if (!m) return this.machineNotFound(id);
		const set = this.logonUsersOf.get(`${store.tenantId}|${m.id}`);
		let users: LogonUser[];
		if (set) users = set;
		else {
			const seen = [...store.entities.users.values()].filter((u) => u.mostPrevalentMachineId === m.id || u.leastPrevalentMachineId === m.id);
			users = seen.map((u) => ({
				id: u.id,
				accountName: u.accountName,
				accountDomain: u.accountDomain,
				firstSeen: u.firstSeen,
				lastSeen: u.lastSeen,
				logonTypes: u.logonTypes,
				isDomainAdmin: u.isDomainAdmin,
				isOnlyNetworkUser: u.isOnlyNetworkUser,
			}));
			if (users.length === 0) {
				// Every device has someone: a deterministic local user per machine.
				const rng = new Rng(`${m.id}|logon`);
				const name = `user${rng.int(100, 999)}`;
				const domain = store.entities.profile.netbios.toLowerCase();
				users = [
					{
						id: `${domain}\\${name}`,
						accountName: name,
						accountDomain: domain,
						firstSeen: m.firstSeen,
						lastSeen: m.lastSeen,
						logonTypes: 'Interactive',
						isDomainAdmin: false,
						isOnlyNetworkUser: false,
					},
				];
			}
		}
		return odataReply(200, { '@odata.context': this.context(req, 'Users'), value: structuredClone(users) });
	}

	private machineAlerts(req: ApiRequestLike, store: TenantStore, id: string): Reply {
		const m = this.find(store, id);
		if (!m) return this.machineNotFound(id);
		const now = this.clock.nowTicks();
		const alerts = store.alerts.filter((s) => s.alert.machineId === m.id && store.isVisible(s, now)).map((s) => ({ ...structuredClone(s.alert), evidence: [] }));
		return odataReply(200, { '@odata.context': this.context(req, 'Alerts'), value: alerts });
	}

	// ------------------------------------------------------------------------------------------- actions

	private render(a: StoredAction): MachineAction {
		const now = this.clock.nowTicks();
		const out = structuredClone(a.base);
		const startTicks = a.createdTicks + a.pendingTicks;
		const doneTicks = startTicks + a.inProgressTicks;
		if (a.cancelledTicks !== undefined) {
			out.status = 'Cancelled';
			out.lastUpdateDateTimeUtc = fromTicks(a.cancelledTicks);
			out.cancellationDateTimeUtc = fromTicks(a.cancelledTicks);
			out.cancellationRequestor = a.cancellationRequestor ?? null;
			out.cancellationComment = a.cancellationComment ?? null;
		} else if (now < startTicks) {
			out.status = 'Pending';
		} else if (now < doneTicks) {
			out.status = 'InProgress';
			out.lastUpdateDateTimeUtc = fromTicks(startTicks);
		} else {
			out.status = a.outcome;
			out.lastUpdateDateTimeUtc = fromTicks(doneTicks);
			if (a.outcome === 'Failed') out.errorHResult = -2147024891;
		}
		return out;
	}

	private isFinal(a: StoredAction): boolean {
		return ['Succeeded', 'Failed', 'TimeOut', 'Cancelled'].includes(this.render(a).status);
	}

	private runAction(req: ApiRequestLike, principal: { tenantId: string; clientId: string }, store: TenantStore, id: string, spec: { type: string; fields: string[] }): Reply {
		const parsed = this.jsonBody(req);
		if ('reply' in parsed) return parsed.reply;
		const b = parsed.body;
		const bad = this.unknownField(b, spec.fields);
		if (bad) return bad;
		if (typeof b.Comment !== 'string' || !b.Comment.trim()) return apiError(400, 'MissingRequiredParameter', "Required parameter 'Comment' is missing.");
		let scope: string | null = null;
		let relatedFileInfo: MachineAction['relatedFileInfo'] = null;
		if (spec.type === 'Isolate') {
			const t = b.IsolationType ?? 'Full';
			if (!['Full', 'Selective', 'UnManagedDevice'].includes(String(t))) return apiError(400, 'InvalidRequestBody', `Request body is incorrect: invalid IsolationType '${String(t)}'. Allowed values: Full, Selective, UnManagedDevice.`);
			scope = String(t);
		}
		if (spec.type === 'RunAntiVirusScan') {
			if (b.ScanType === undefined) return apiError(400, 'MissingRequiredParameter', "Required parameter 'ScanType' is missing.");
			if (!['Quick', 'Full'].includes(String(b.ScanType))) return apiError(400, 'InvalidRequestBody', `Request body is incorrect: invalid ScanType '${String(b.ScanType)}'. Allowed values: Quick, Full.`);
			scope = String(b.ScanType);
		}
		if (spec.type === 'StopAndQuarantineFile') {
			if (b.Sha1 === undefined) return apiError(400, 'MissingRequiredParameter', "Required parameter 'Sha1' is missing.");
			if (typeof b.Sha1 !== 'string' || !/^[0-9a-f]{40}$/i.test(b.Sha1)) return apiError(400, 'InvalidHashValue', `Invalid hash value '${String(b.Sha1)}': a SHA-1 is expected.`);
			relatedFileInfo = { fileIdentifier: b.Sha1.toLowerCase(), fileIdentifierType: 'Sha1' };
		}
		const machine = this.find(store, id);
		if (!machine) return this.machineNotFound(id);
		if (spec.type === 'Offboard' && !machine.osPlatform.startsWith('Windows')) {
			return apiError(400, 'OsPlatformNotSupported', `Offboarding through the API is not supported for ${machine.osPlatform} devices.`);
		}
		const active = this.actions.find((a) => a.tenantId === store.tenantId && a.base.machineId === machine.id && a.base.type === spec.type && !this.isFinal(a));
		if (active) return apiError(400, 'ActiveRequestAlreadyExists', `Action is already in progress: ${spec.type} request ${active.base.id} on machine ${machine.id} has not finished yet.`);
		const created = this.clock.writeTicks();
		const outcome = this.outcomes.get(`${store.tenantId}|${machine.id}`) ?? (machine.healthStatus === 'Inactive' ? 'TimeOut' : 'Succeeded');
		const action: MachineAction = {
			id: guid(),
			type: spec.type,
			title: `${spec.type} request on ${machine.computerDnsName}`,
			requestor: principal.clientId,
			requestorComment: b.Comment,
			status: 'Pending',
			machineId: machine.id,
			computerDnsName: machine.computerDnsName,
			creationDateTimeUtc: fromTicks(created),
			lastUpdateDateTimeUtc: fromTicks(created),
			cancellationRequestor: null,
			cancellationComment: null,
			cancellationDateTimeUtc: null,
			errorHResult: 0,
			scope,
			externalId: null,
			requestSource: 'PublicApi',
			relatedFileInfo,
			commands: [],
			troubleshootInfo: null,
		};
		const stored: StoredAction = {
			tenantId: store.tenantId,
			base: action,
			createdTicks: created,
			pendingTicks: BigInt(Math.round(this.timing.pendingMs)) * TICKS_PER_MS,
			inProgressTicks: BigInt(Math.round(this.timing.inProgressMs)) * TICKS_PER_MS,
			outcome,
		};
		this.actions.push(stored);
		this.byId.set(action.id, stored);
		return odataReply(201, { '@odata.context': this.context(req, 'MachineActions/$entity'), ...this.render(stored) });
	}

	private stored(tenantId: string, id: string): StoredAction | undefined {
		const a = this.byId.get(id.toLowerCase());
		return a && a.tenantId === tenantId ? a : undefined;
	}

	private actionNotFound(id: string): Reply {
		return apiError(404, 'ResourceNotFound', `MachineAction ${id} was not found`);
	}

	private listActions(req: ApiRequestLike, tenantId: string): Reply {
		const q = parseListQuery(req.query, ACTION_FILTER_FIELDS, 'microsoft.windowsDefenderATP.api.PublicMachineAction', this.maxPageSize());
		const items = this.actionsOf(tenantId).filter((a) => !q.filter || evaluateRecordFilter(q.filter, a as unknown as Record<string, unknown>));
		return this.page(req, 'MachineActions', items, q, 'machineactions');
	}

	private getAction(req: ApiRequestLike, tenantId: string, id: string): Reply {
		const a = this.stored(tenantId, id);
		if (!a) return this.actionNotFound(id);
		return odataReply(200, { '@odata.context': this.context(req, 'MachineActions/$entity'), ...this.render(a) });
	}

	private cancel(req: ApiRequestLike, principal: { tenantId: string; clientId: string }, id: string): Reply {
		const parsed = this.jsonBody(req);
		if ('reply' in parsed) return parsed.reply;
		const b = parsed.body;
		const bad = this.unknownField(b, ['Comment']);
		if (bad) return bad;
		if (typeof b.Comment !== 'string' || !b.Comment.trim()) return apiError(400, 'MissingRequiredParameter', "Required parameter 'Comment' is missing.");
		const a = this.stored(principal.tenantId, id);
		if (!a) return this.actionNotFound(id);
		const status = this.render(a).status;
		if (this.isFinal(a)) return apiError(400, 'InvalidRequestBody', `The action ${a.base.id} is already in a final state (${status}) and cannot be cancelled.`);
		a.cancelledTicks = this.clock.writeTicks();
		a.cancellationRequestor = principal.clientId;
		a.cancellationComment = b.Comment;
		return odataReply(200, { '@odata.context': this.context(req, 'MachineActions/$entity'), ...this.render(a) });
	}

	private packageUri(req: ApiRequestLike, tenantId: string, id: string): Reply {
		const a = this.stored(tenantId, id);
		if (!a) return this.actionNotFound(id);
		const r = this.render(a);
		if (r.type !== 'CollectInvestigationPackage' || r.status !== 'Succeeded') {
			return apiError(404, 'ResourceNotFound', `No package is available for action ${r.id} (type ${r.type}, status ${r.status}).`);
		}
		const expires = new Date(this.clock.nowMs() + 10 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
		const url = `https://userrequests-us.securitycenter.windows.com:443/safedownload/WDATP_Investigation_Package.zip?token=${r.id.replace(/-/g, '')}&se=${encodeURIComponent(expires)}`;
		return odataReply(200, { '@odata.context': this.context(req, 'Edm.String'), value: url });
	}
}
