import { toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { evaluateFilter, ODataQueryError, parseAlertQuery, parseFilter, parseOrderBy, tokenize, type FieldDef } from './odata';

type Row = Record<string, unknown>;

const read = (row: Row) => (field: FieldDef): unknown => {
	const v = row[field.name];
	return field.type === 'datetime' && typeof v === 'string' ? toTicks(v) : v;
};
const matches = (filter: string, row: Row): boolean => evaluateFilter(parseFilter(filter), read(row));
const errorOf = (fn: () => unknown): string => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(ODataQueryError);
		return (error as Error).message;
	}
	throw new Error('expected an ODataQueryError');
};

const alert: Row = {
	id: 'da638712345678901234_-1234567890',
	status: 'New',
	severity: 'High',
	category: 'Execution',
	detectionSource: 'WindowsDefenderAtp',
	assignedTo: null,
	incidentId: 48213,
	investigationId: null,
	alertCreationTime: '2025-03-04T09:15:22.4817263Z',
	lastUpdateTime: '2025-03-04T10:02:11.53Z',
	lastEventTime: '2025-03-04T09:14:02.9904411Z',
};

describe('OData $filter tokenizer', () => {
	it('tokenizes strings with doubled quotes, datetimes, integers and parentheses', () => {
		const tokens = tokenize("(assignedTo eq 'o''brien@contoso.com') and lastUpdateTime gt 2025-03-04T09:15:22.4817263Z and incidentId ge -5");
		expect(tokens.map((t) => t.type)).toEqual([
			'lparen', 'ident', 'ident', 'string', 'rparen', 'ident', 'ident', 'ident', 'datetime', 'ident', 'ident', 'ident', 'int', 'eof',
		]);
		expect(tokens[3].value).toBe("o'brien@contoso.com");
		expect(tokens[8].text).toBe('2025-03-04T09:15:22.4817263Z');
	});

	it('reports the position of an unterminated string and of stray characters', () => {
		expect(errorOf(() => tokenize("status eq 'New"))).toBe("Syntax error at position 10 in 'status eq 'New'. Unterminated string literal.");
		expect(errorOf(() => tokenize('status eq New;'))).toContain('position 13');
	});
});

describe('OData $filter semantics', () => {
	it('compares datetimes exactly to 7 digits (100 ns), independent of the served digit count', () => {
		expect(matches('alertCreationTime gt 2025-03-04T09:15:22.4817262Z', alert)).toBe(true);
		expect(matches('alertCreationTime gt 2025-03-04T09:15:22.4817263Z', alert)).toBe(false);
		expect(matches('alertCreationTime ge 2025-03-04T09:15:22.4817263Z', alert)).toBe(true);
		expect(matches('alertCreationTime eq 2025-03-04T09:15:22.4817263Z', alert)).toBe(true);
		// Same millisecond, 100 ns later: JS Date would call these equal.
		expect(matches('alertCreationTime lt 2025-03-04T09:15:22.4817264Z', alert)).toBe(true);
		// lastUpdateTime is served as "…11.53Z"; it equals …11.5300000Z
		expect(matches('lastUpdateTime eq 2025-03-04T10:02:11.5300000Z', alert)).toBe(true);
		expect(matches('lastUpdateTime gt 2025-03-04T10:02:11.5299999Z', alert)).toBe(true);
		expect(matches('lastUpdateTime gt 2025-03-04T10:02:11.53Z', alert)).toBe(false);
		// offsets are honoured
		expect(matches('alertCreationTime eq 2025-03-04T10:15:22.4817263+01:00', alert)).toBe(true);
	});

	it('treats property names case-insensitively but keywords and values case-sensitively', () => {
		expect(matches("Status eq 'New' and SEVERITY eq 'High'", alert)).toBe(true);
		expect(matches('InvestigationId eq null', alert)).toBe(true);
		expect(matches("status eq 'new'", alert)).toBe(false);
		expect(errorOf(() => parseFilter("status EQ 'New'"))).toContain("Operators are lowercase in OData: use 'eq'");
		expect(errorOf(() => parseFilter("status eq 'New' AND severity eq 'High'"))).toContain("found 'AND'");
	});

	it('supports and/or precedence, parentheses, not(), null and integers', () => {
		expect(matches("status eq 'Resolved' or severity eq 'High' and category eq 'Execution'", alert)).toBe(true);
		expect(matches("(status eq 'Resolved' or severity eq 'High') and category eq 'Malware'", alert)).toBe(false);
		expect(matches("not (status eq 'Resolved')", alert)).toBe(true);
		expect(matches('assignedTo eq null and incidentId gt 48212 and incidentId le 48213', alert)).toBe(true);
		expect(matches('assignedTo ne null', alert)).toBe(false);
		expect(matches('investigationId gt 0', alert)).toBe(false);
		expect(matches("48213 eq incidentId and 2025-03-04T09:15:22.4817264Z gt alertCreationTime", alert)).toBe(true);
		expect(matches("id eq 'da638712345678901234_-1234567890'", alert)).toBe(true);
		expect(matches("((status eq 'New'))", alert)).toBe(true);
	});

	it('rejects unknown properties, type mismatches and malformed input with ODataError messages', () => {
		expect(errorOf(() => parseFilter("title eq 'x'"))).toContain("Could not find a property named 'title'");
		expect(errorOf(() => parseFilter("lastUpdateTime gt '2025-03-04T09:15:22Z'"))).toContain(
			"Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'GreaterThan'",
		);
		expect(errorOf(() => parseFilter("incidentId eq '5'"))).toContain("'Edm.Int64' and 'Edm.String'");
		expect(errorOf(() => parseFilter('status eq 5'))).toContain("'Edm.String' and 'Edm.Int64'");
		expect(errorOf(() => parseFilter('lastUpdateTime gt 2025-03-04'))).toContain("'Edm.DateTimeOffset' and 'Edm.Date'");
		expect(errorOf(() => parseFilter('lastUpdateTime gt 2025-03-04T09:15:22.123456789Z'))).toContain('should be in format');
		expect(errorOf(() => parseFilter('lastUpdateTime gt 2025-03-04T09:15:22'))).toContain('should be in format');
		expect(errorOf(() => parseFilter("lastUpdateTime gt datetime'2025-03-04T09:15:22Z'"))).toContain('unquoted');
		expect(errorOf(() => parseFilter('status eq'))).toBe("Syntax error at position 9 in 'status eq'. Expression expected at the end of the input.");
		expect(errorOf(() => parseFilter("(status eq 'New'"))).toContain("')' expected");
		expect(errorOf(() => parseFilter("status eq 'New' severity eq 'High'"))).toContain("Expected 'and', 'or'");
		expect(errorOf(() => parseFilter("startswith(title,'x')"))).toContain("unknown function with name 'startswith'");
		expect(errorOf(() => parseFilter("not status eq 'New'"))).toContain("'not' applies to a Boolean expression");
		expect(errorOf(() => parseFilter("status in ('New','InProgress')"))).toContain("'in' operator is not supported");
		expect(errorOf(() => parseFilter('status eq severity'))).toContain('Comparing two properties');
		expect(errorOf(() => parseFilter(''))).toContain('must not be empty');
	});
});

describe('OData query options', () => {
	const q = (qs: string, max = 10_000) => parseAlertQuery(new URLSearchParams(qs), max);

	it('parses $top, $skip, $orderby and $expand; + means space', () => {
		const query = q("$filter=status+eq+'New'&$top=50&$skip=100&$orderby=lastUpdateTime desc,AlertCreationTime&$expand=evidence");
		expect(query.top).toBe(50);
		expect(query.skip).toBe(100);
		expect(query.orderBy).toEqual([
			{ field: 'lastUpdateTime', desc: true },
			{ field: 'alertCreationTime', desc: false },
		]);
		expect(query.expandEvidence).toBe(true);
		expect(query.filterText).toBe("status eq 'New'");
	});

	it('enforces the documented $top limit with the ASP.NET OData message', () => {
		expect(q('$top=10000').top).toBe(10_000);
		expect(errorOf(() => q('$top=10001'))).toBe("The limit of '10000' for Top query has been exceeded. The value from the incoming request is '10001'.");
		expect(errorOf(() => q('$top=-1'))).toContain('requires a non-negative integer value');
		expect(errorOf(() => q('$skip=abc'))).toContain("Invalid value 'abc' for $skip");
	});

	it('rejects unsupported, duplicated or wrongly cased system options', () => {
		expect(errorOf(() => q('$select=id'))).toBe("The query parameter '$select' is not supported.");
		expect(errorOf(() => q('$Filter=x'))).toContain("lowercase: '$filter'");
		expect(errorOf(() => q('$top=1&$top=2'))).toContain("'$top' was specified more than once");
		expect(errorOf(() => q('$expand=comments'))).toContain("'comments'");
		expect(errorOf(() => parseOrderBy('severity desc'))).toContain("Order by 'severity' is not allowed");
		expect(errorOf(() => parseOrderBy('lastUpdateTime descending'))).toContain("expected 'asc' or 'desc'");
		// options without "$" are not OData options and are ignored, as ASP.NET OData does
		expect(q('filter=whatever').filter).toBeUndefined();
	});
});
