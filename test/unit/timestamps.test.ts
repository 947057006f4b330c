import { addMilliseconds, compareTimestamps, fromDate, isTimestamp, normalizeTimestamp, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';

describe('7-digit timestamps', () => {
	it('keeps all 7 fraction digits and orders them exactly', () => {
		const a = '2025-03-04T09:15:22.4817263Z';
		const b = '2025-03-04T09:15:22.4817264Z';
		expect(normalizeTimestamp(a)).toBe(a);
		expect(compareTimestamps(a, b)).toBe(-1);
		// JavaScript Date cannot tell them apart:
		expect(new Date(a).getTime()).toBe(new Date(b).getTime());
	});

	it('normalises shorter fractions, offsets and 9-digit input', () => {
		expect(normalizeTimestamp('2025-03-04T10:02:11.53Z')).toBe('2025-03-04T10:02:11.5300000Z');
		expect(normalizeTimestamp('2025-03-04T10:02:11Z')).toBe('2025-03-04T10:02:11.0000000Z');
		expect(normalizeTimestamp('2025-03-04T12:02:11.1234567+02:00')).toBe('2025-03-04T10:02:11.1234567Z');
		expect(normalizeTimestamp('2025-03-04T10:02:11.123456789Z')).toBe('2025-03-04T10:02:11.1234567Z');
	});

	it('does tick arithmetic across day and year boundaries', () => {
		expect(addMilliseconds('2025-12-31T23:59:59.9999999Z', 1)).toBe('2026-01-01T00:00:00.0009999Z');
		expect(addMilliseconds('2026-01-01T00:00:00.0000001Z', -1)).toBe('2025-12-31T23:59:59.9990001Z');
		expect(toTicks('1970-01-01T00:00:00.0000001Z')).toBe(1n);
		expect(fromDate(new Date('2026-11-29T12:00:00.123Z'))).toBe('2026-11-29T12:00:00.1230000Z');
	});

	it('rejects what is not a timestamp', () => {
		for (const bad of ['', 'yesterday', '2025-02-30T00:00:00Z', '2025-13-01T00:00:00Z', '2025-01-01', 12 as unknown as string]) {
			expect(isTimestamp(bad)).toBe(false);
		}
	});
});
