/** The pure part of Hunting → Run Query (core/hunting.ts) and its pacing budget (transport/pacer.ts, fake clock). */
import { decorateRow, durationMs, HUNTING_LIMITS, huntingFailureKind, HuntingInputError, parseTimespan, readHuntingResponse, validateHuntingQuery } from '../../nodes/MicrosoftDefenderForEndpoint/core/hunting';
import { DOCUMENTED_BUDGETS, Pacer } from '../../nodes/MicrosoftDefenderForEndpoint/transport/pacer';

describe('Timespan (ISO 8601)', () => {
	it('durations: normalised to upper case, in ms', () => {
		expect(parseTimespan('P7D')).toEqual({ text: 'P7D', durationMs: 7 * 86_400_000 });
		expect(parseTimespan(' pt12h ')).toEqual({ text: 'PT12H', durationMs: 12 * 3_600_000 });
		expect(parseTimespan('P1DT6H30M')?.durationMs).toBe(86_400_000 + 6.5 * 3_600_000);
		expect(parseTimespan('P2W')?.durationMs).toBe(14 * 86_400_000);
		expect(durationMs('PT0.5S')).toBe(500);
	});
	it('empty → undefined (the 30-day default); intervals start/end and start/duration', () => {
		expect(parseTimespan('')).toBeUndefined();
		expect(parseTimespan(undefined)).toBeUndefined();
		expect(parseTimespan('2025-03-01T00:00:00Z/2025-03-08T00:00:00Z')).toEqual({ text: '2025-03-01T00:00:00Z/2025-03-08T00:00:00Z', durationMs: 7 * 86_400_000 });
		expect(parseTimespan('2025-03-01T00:00:00+02:00/P1D')?.durationMs).toBe(86_400_000);
		expect(HUNTING_LIMITS.defaultLookbackDays).toBe(30);
	});
	it.each(['7d', 'P', 'PT', 'P7', 'P1.5D', '7 days', 'P7DT', '2025-03-01/2025-03-08', '2025-03-01T00:00:00/P1D', '-P7D'])('refuses %j with the hint', (text) => {
		expect(() => parseTimespan(text)).toThrow(HuntingInputError);
		try {
			parseTimespan(text);
		} catch (error) {
			expect((error as HuntingInputError).hint).toMatch(/P7D .*30 days/);
		}
	});
	it('refuses a zero span and an interval that ends before it starts', () => {
		expect(() => parseTimespan('PT0S')).toThrow('is zero');
		expect(() => parseTimespan('2025-03-08T00:00:00Z/2025-03-01T00:00:00Z')).toThrow('ends before it starts');
	});
});

describe('query text', () => {
	it('trims; refuses empty and comment-only queries', () => {
		expect(validateHuntingQuery('  AlertInfo | take 1\n')).toBe('AlertInfo | take 1');
		for (const q of ['', '   ', null, undefined, '// a\n// b']) expect(() => validateHuntingQuery(q)).toThrow('The hunting query is empty');
	});
});

describe('response and failures', () => {
	it('reads {schema, results} and the capitalised form', () => {
		const rows = [{ A: 1 }];
		expect(readHuntingResponse({ schema: [{ name: 'A', type: 'Int64' }], results: rows })).toEqual({ schema: [{ name: 'A', type: 'Int64' }], results: rows });
		expect(readHuntingResponse({ Schema: [{ Name: 'A', Type: 'Int64' }], Results: rows })).toEqual({ schema: [{ name: 'A', type: 'Int64' }], results: rows });
		expect(() => readHuntingResponse({ value: [] })).toThrow('without a "results" list');
		expect(() => readHuntingResponse('')).toThrow('without a JSON object');
	});
	it('names the limit a failure hit, by meaning', () => {
		expect(huntingFailureKind(400, "Semantic error: Failed to resolve table or column expression named 'X'")).toBe('query');
		expect(huntingFailureKind(400, 'Query result set has exceeded the internal record count limit 100000 (E_QUERY_RESULT_SET_TOO_LARGE)')).toBe('rowLimit');
		expect(huntingFailureKind(400, 'Query execution has exceeded the allowed limits: exceeded the allowed execution time')).toBe('timeout');
		expect(huntingFailureKind(504, undefined)).toBe('timeout');
		expect(huntingFailureKind(400, 'You have exceeded the CPU quota for advanced hunting')).toBe('cpuQuota');
		expect(huntingFailureKind(403, 'Missing role permissions')).toBeUndefined();
		expect(huntingFailureKind(429, 'CPU quota')).toBeUndefined();
		expect(huntingFailureKind(undefined, 'timeout')).toBeUndefined();
	});
	it('decorates rows without losing a column of the same name', () => {
		expect(decorateRow({ tenantId: 'x', A: 1 }, { tenantId: 't', customerLabel: 'L' })).toEqual({ column_tenantId: 'x', A: 1, tenantId: 't', customerLabel: 'L' });
		expect(decorateRow({ A: 1 }, { tenantId: 't' })).toEqual({ A: 1, tenantId: 't' });
	});
});

describe('pacing class "hunting": 45 calls per minute per app and tenant (fake clock)', () => {
	it('the 46th call within a minute waits for the window; another tenant does not', () => {
		expect(DOCUMENTED_BUDGETS.hunting).toEqual([{ limit: HUNTING_LIMITS.callsPerMinute, windowMs: 61_000 }]);
		let now = 0;
		const p = new Pacer(() => now);
		for (let i = 0; i < 45; i++) {
			expect(p.delayFor('app|t1|hunting', 'hunting')).toBe(0);
			p.record('app|t1|hunting', 'hunting');
			now += 100;
		}
		expect(p.delayFor('app|t1|hunting', 'hunting')).toBe(61_001 - 4500);
		expect(p.delayFor('app|t2|hunting', 'hunting')).toBe(0);
		now = 61_001;
		expect(p.delayFor('app|t1|hunting', 'hunting')).toBe(0);
	});
});
