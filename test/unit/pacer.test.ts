import { DOCUMENTED_BUDGETS, Pacer } from '../../nodes/MicrosoftDefenderForEndpoint/transport/pacer';

describe('pacer (documented budgets per app + tenant + endpoint class)', () => {
	it('allows 100 alert calls a minute, then makes the 101st wait for the window', () => {
		let now = 0;
		const p = new Pacer(() => now);
		for (let i = 0; i < 100; i++) {
			expect(p.delayFor('app|t1|alerts', 'alerts')).toBe(0);
			p.record('app|t1|alerts', 'alerts');
			now += 10;
		}
		const wait = p.delayFor('app|t1|alerts', 'alerts');
		expect(wait).toBeGreaterThan(0);
		expect(wait).toBeLessThanOrEqual(60_001);
		// another tenant is not slowed down by the busy one
		expect(p.delayFor('app|t2|alerts', 'alerts')).toBe(0);
	});

	it('batchUpdate has its own 10/min budget and the hour budget also applies', () => {
		let now = 0;
		const p = new Pacer(() => now);
		for (let i = 0; i < 10; i++) p.record('k', 'batchUpdate');
		expect(p.delayFor('k', 'batchUpdate')).toBe(60_001);
		// hour window: 500 calls within the hour → the 501st waits for the hour
		const q = new Pacer(() => now);
		for (let i = 0; i < 500; i++) {
			now += 6_001; // 10 per minute max
			expect(q.delayFor('k', 'batchUpdate')).toBe(0);
			q.record('k', 'batchUpdate');
		}
		expect(q.delayFor('k', 'batchUpdate')).toBeGreaterThan(60_000);
		expect(DOCUMENTED_BUDGETS.createByReference).toEqual([{ limit: 15, windowMs: 60_000 }]);
	});

	it('honours a Retry-After block and scales windows for benchmarks', () => {
		let now = 1000;
		const p = new Pacer(() => now);
		p.blockFor('k', 5000);
		expect(p.delayFor('k', 'alerts')).toBe(5000);
		now += 5000;
		expect(p.delayFor('k', 'alerts')).toBe(0);
		p.setTimeScale(0.01);
		for (let i = 0; i < 100; i++) p.record('s', 'alerts');
		expect(p.delayFor('s', 'alerts')).toBe(601);
	});
});
