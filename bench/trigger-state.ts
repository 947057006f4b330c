/**
 * State-size benchmark of the alert trigger (trigger/poller.ts): how many bytes of static data one tenant's stream
 * keeps, and n8n rewrites into the workflow row after every poll that emits. Pure and fast: no network, no n8n;
 * `pollStream` reads a simulated alert store (like test/unit/poller.property.test.ts does).
 *
 * Load: `alertsPerHour` new alerts per tenant (default 1,000), each with 3 versions (created New → InProgress,
 * assigned, one comment, 2–90 min later → Resolved and classified, 5–360 min after that), visible up to 30 s after
 * their timestamp; one poll per minute with the trigger's defaults (15-minute late-arrival window, 500 alerts per
 * poll, pages of 1,000), for `hours` simulated hours (default 12: longer than the old 10,000-fingerprint cap needs
 * to fill). Alert ids have the length of real Defender ids (`da637399794050273582_760707377`).
 *
 * Rows: New Alert; Updated Alert without watched fields; Updated Alert watching status + classification (with the
 * per-stream byte budget a trigger of `tenants` tenants gets). `bytesPerStream` is the state after the last poll,
 * `maxBytesPerStream` the largest state of the run, `totalBytes` = maxBytesPerStream × tenants.
 *
 * Run alone: `node --require ts-node/register/transpile-only bench/trigger-state.ts [--hours 12]
 * [--compare <path of another poller.ts>]` prints the table; `--compare` adds the same rows for that module (e.g.
 * an older copy of the poller, for a before/after figure).
 */
import { fromTicks, toTicks } from '../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import * as poller from '../nodes/MicrosoftDefenderForEndpoint/trigger/poller';

/** What the bench needs of a poller module (any state version). */
export interface PollerModule {
	createStreamState(kind: 'created' | 'updated', start: string): object;
	pollStream(
		state: never,
		fetchPage: (req: poller.PageRequest) => Promise<poller.AlertRecord[]>,
		options: poller.PollOptions,
	): Promise<{ emitted: unknown[]; state: object }>;
}

export interface TriggerStateBenchOptions {
	/** default: this repository's trigger/poller.ts */
	poller?: PollerModule;
	/** label of the module in the rows (default 'current') */
	label?: string;
	hours?: number;
	alertsPerHour?: number;
	tenants?: number;
	/** total state budget of one trigger; each stream gets totalBudgetBytes / tenants (default DEFAULT_TRIGGER_STATE_BYTES) */
	totalBudgetBytes?: number;
	seed?: number;
}

export interface TriggerStateRow {
	/** 'New Alert' | 'Updated Alert' | 'Updated Alert, watch status+classification' */
	scenario: string;
	/** options.label */
	poller: string;
	/** `v` of the final state */
	stateVersion: number;
	/** per-stream byte budget passed as PollOptions.maxStateBytes (watch row of a version-2 poller; else null) */
	budgetBytes: number | null;
	/** JSON bytes of the state after the last poll */
	bytesPerStream: number;
	/** largest state of the run */
	maxBytesPerStream: number;
	seenEntries: number;
	/** alerts with a fingerprint in the final state */
	rememberedAlerts: number;
	/** bytesPerStream / rememberedAlerts (null without fingerprints) */
	bytesPerRememberedAlert: number | null;
	/** bytes of the fingerprints alone / rememberedAlerts (null without fingerprints) */
	fingerprintBytesPerAlert: number | null;
	tenants: number;
	/** maxBytesPerStream × tenants */
	totalBytes: number;
	/** events emitted over the run (sanity check of the simulation) */
	emitted: number;
	/** watch mode: versions recorded as a baseline instead of being compared (PollResult.baselined; null if absent) */
	baselined: number | null;
	polls: number;
	ms: number;
}

const T0 = toTicks('2025-03-04T00:00:00Z');
const TICKS_PER_MS = 10_000;
const MINUTE = 60_000 * TICKS_PER_MS;

interface SimVersion {
	lut: number; // ticks after T0
	vis: number;
	iso?: string;
	status: string;
	classification: string | null;
	determination: string | null;
	assignedTo: string | null;
	comments: number;
}
interface SimAlert {
	id: string;
	c: number;
	iso: string;
	versions: SimVersion[];
}

function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const CLASSIFICATIONS: Array<[string, string]> = [
	['TruePositive', 'Malware'],
	['FalsePositive', 'NotMalicious'],
	['InformationalExpectedActivity', 'SecurityTesting'],
];

function simulateAlerts(hours: number, perHour: number, seed: number): SimAlert[] {
	const rnd = mulberry32(seed);
	const between = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo));
	const alerts: SimAlert[] = [];
	const meanGap = (3_600_000 * TICKS_PER_MS) / perHour;
	const end = hours * 60 * MINUTE;
	for (let c = Math.floor(rnd() * meanGap); c < end; c += Math.max(1, Math.floor(-Math.log(1 - rnd()) * meanGap))) {
		const n = alerts.length;
		const id = `da${String(638_760_000_000_000_000n + BigInt(c))}_${(between(0, 2 ** 32) | 0).toString()}`;
		const delay = () => between(0, 30_000 * TICKS_PER_MS);
		const v0: SimVersion = { lut: c, vis: 0, status: 'New', classification: null, determination: null, assignedTo: null, comments: 0 };
		v0.vis = v0.lut + delay();
		const t1 = c + between(2 * MINUTE, 90 * MINUTE);
		const v1: SimVersion = { ...v0, lut: t1, vis: t1 + delay(), status: 'InProgress', assignedTo: `analyst${n % 7}@contoso.com`, comments: 1 };
		const t2 = t1 + between(5 * MINUTE, 360 * MINUTE);
		const [classification, determination] = CLASSIFICATIONS[n % CLASSIFICATIONS.length];
		const v2: SimVersion = { ...v1, lut: t2, vis: t2 + delay(), status: 'Resolved', classification, determination, comments: 2 };
		const versions = [v0, v1, v2];
		for (const v of versions) v.iso = iso(v.lut);
		alerts.push({ id, c, iso: iso(c), versions });
	}
	return alerts;
}

function iso(offset: number): string {
	return fromTicks(T0 + BigInt(offset));
}

/** A `GET /api/alerts` over the simulated alerts at a given clock (field ge from, ordered by field asc). */
function store(alerts: SimAlert[], kind: poller.EventKind) {
	let clock = 0;
	let created = 0; // alerts[0..created) have c ≤ clock (alerts are in creation order)
	const fetchPage = async (req: poller.PageRequest): Promise<poller.AlertRecord[]> => {
		const from = Number(toTicks(req.from) - T0);
		const rows: Array<{ a: SimAlert; v: SimVersion; t: number; n: number }> = [];
		for (let n = 0; n < created; n++) {
			const a = alerts[n];
			let v: SimVersion | undefined;
			for (const x of a.versions) if (x.vis <= clock) v = x;
			if (!v) continue;
			const t = kind === 'created' ? a.c : v.lut;
			if (t >= from) rows.push({ a, v, t, n });
		}
		rows.sort((x, y) => x.t - y.t || x.n - y.n);
		return rows.slice(req.skip, req.skip + req.top).map(({ a, v }) => ({
			id: a.id,
			alertCreationTime: a.iso,
			lastUpdateTime: v.iso,
			status: v.status,
			classification: v.classification,
			determination: v.determination,
			assignedTo: v.assignedTo,
			severity: 'Medium',
			title: 'Suspicious PowerShell command line',
			comments: Array.from({ length: v.comments }, (_, i) => ({ comment: `note ${i}`, createdBy: v.assignedTo, createdTime: v.iso })),
		}));
	};
	return {
		fetchPage,
		setClock(t: number) {
			clock = t;
			while (created < alerts.length && alerts[created].c <= clock) created++;
		},
	};
}

/** UTF-8 bytes of the state's JSON (what n8n stores). */
function jsonBytes(state: object): number {
	return Buffer.byteLength(JSON.stringify(state), 'utf8');
}

function counts(state: object): { seen: number; fingerprints: number; fingerprintBytes: number } {
	const s = state as { v: number; seen?: Record<string, unknown>; fingerprints?: Record<string, unknown> };
	const seen = s.seen ? Object.keys(s.seen).length : 0;
	const fingerprintBytes = s.fingerprints ? jsonBytes(state) - jsonBytes({ ...state, fingerprints: undefined }) : 0;
	if (s.v === 1) return { seen, fingerprints: s.fingerprints ? Object.keys(s.fingerprints).length : 0, fingerprintBytes };
	return { seen, fingerprints: poller.stateStats(state as poller.StreamState).fingerprints, fingerprintBytes };
}

export async function runTriggerStateBench(options: TriggerStateBenchOptions = {}): Promise<TriggerStateRow[]> {
	const mod: PollerModule = options.poller ?? (poller as unknown as PollerModule);
	const hours = options.hours ?? 12;
	const perHour = options.alertsPerHour ?? 1000;
	const tenants = options.tenants ?? 50;
	const budget = Math.floor((options.totalBudgetBytes ?? poller.DEFAULT_TRIGGER_STATE_BYTES) / tenants);
	const alerts = simulateAlerts(hours, perHour, options.seed ?? 20250304);
	const scenarios: Array<{ scenario: string; kind: poller.EventKind; watchFields?: poller.WatchField[] }> = [
		{ scenario: 'New Alert', kind: 'created' },
		{ scenario: 'Updated Alert', kind: 'updated' },
		{ scenario: 'Updated Alert, watch status+classification', kind: 'updated', watchFields: ['status', 'classification'] },
	];
	const rows: TriggerStateRow[] = [];
	for (const sc of scenarios) {
		const started = performance.now();
		const sim = store(alerts, sc.kind);
		const pollOptions: poller.PollOptions = { pageSize: 1000, maxItems: 500, overlapMs: 15 * 60_000 };
		if (sc.watchFields) Object.assign(pollOptions, { watchFields: sc.watchFields, maxStateBytes: budget });
		let state = mod.createStreamState(sc.kind, iso(0));
		let maxBytes = 0;
		let emitted = 0;
		let baselined: number | null = null;
		let polls = 0;
		for (let t = MINUTE; t <= hours * 60 * MINUTE; t += MINUTE) {
			sim.setClock(t);
			const r = (await mod.pollStream(state as never, sim.fetchPage, pollOptions)) as { emitted: unknown[]; state: object; baselined?: number };
			state = r.state;
			emitted += r.emitted.length;
			if (r.baselined !== undefined) baselined = (baselined ?? 0) + r.baselined;
			polls++;
			maxBytes = Math.max(maxBytes, jsonBytes(state));
		}
		const bytes = jsonBytes(state);
		const c = counts(state);
		rows.push({
			scenario: sc.scenario,
			poller: options.label ?? 'current',
			stateVersion: (state as { v: number }).v,
			budgetBytes: sc.watchFields && (state as { v: number }).v !== 1 ? budget : null, // version 1 has no byte budget
			bytesPerStream: bytes,
			maxBytesPerStream: maxBytes,
			seenEntries: c.seen,
			rememberedAlerts: c.fingerprints,
			bytesPerRememberedAlert: c.fingerprints > 0 ? Math.round((bytes / c.fingerprints) * 10) / 10 : null,
			fingerprintBytesPerAlert: c.fingerprints > 0 ? Math.round((c.fingerprintBytes / c.fingerprints) * 10) / 10 : null,
			tenants,
			totalBytes: maxBytes * tenants,
			emitted,
			baselined,
			polls,
			ms: Math.round(performance.now() - started),
		});
	}
	return rows;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MiB`;

export function formatTriggerStateRows(rows: TriggerStateRow[]): string {
	const head = ['poller', 'scenario', 'v', 'budget/stream', 'bytes/stream', 'max/stream', 'seen', 'remembered', 'B/remembered', 'fp B/alert', `total (${rows[0]?.tenants ?? 0} tenants)`, 'emitted', 'baselined', 'ms'];
	const body = rows.map((r) => [
		r.poller,
		r.scenario,
		String(r.stateVersion),
		r.budgetBytes === null ? '-' : kib(r.budgetBytes),
		kib(r.bytesPerStream),
		kib(r.maxBytesPerStream),
		String(r.seenEntries),
		String(r.rememberedAlerts),
		r.bytesPerRememberedAlert === null ? '-' : String(r.bytesPerRememberedAlert),
		r.fingerprintBytesPerAlert === null ? '-' : String(r.fingerprintBytesPerAlert),
		mib(r.totalBytes),
		String(r.emitted),
		r.baselined === null ? '-' : String(r.baselined),
		String(r.ms),
	]);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
	return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function cli(): Promise<void> {
	const args = process.argv.slice(2);
	const arg = (name: string) => {
		const i = args.indexOf(name);
		return i >= 0 ? args[i + 1] : undefined;
	};
	const hours = arg('--hours') === undefined ? undefined : Number(arg('--hours'));
	const rows: TriggerStateRow[] = [];
	const compare = arg('--compare');
	if (compare) {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const other = require(require('node:path').resolve(compare)) as PollerModule;
		rows.push(...(await runTriggerStateBench({ poller: other, label: 'compare', hours })));
	}
	rows.push(...(await runTriggerStateBench({ hours })));
	console.log(formatTriggerStateRows(rows));
}

if (require.main === module) {
	cli().catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	});
}
