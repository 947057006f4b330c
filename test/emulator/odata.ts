/**
 * OData query options for `GET /api/alerts`: a tokenizer + recursive-descent parser for `$filter` (no eval),
 * `$orderby`, `$top`, `$skip` and `$expand`. Messages are modelled on ASP.NET OData (ODL) wording.
 *
 * Grammar (operators and keywords are lowercase, as in OData):
 *   expr       := andExpr ('or' andExpr)*
 *   andExpr    := unary ('and' unary)*
 *   unary      := 'not' unary | '(' expr ')' | comparison
 *   comparison := operand ('eq'|'ne'|'gt'|'ge'|'lt'|'le') operand   (one property, one literal)
 *   operand    := property | 'string' | datetimeoffset | integer | null
 */
import { toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';

export class ODataQueryError extends Error {}

export type FieldType = 'datetime' | 'int' | 'string';

export interface FieldDef {
	name: string;
	type: FieldType;
}

/** Filterable alert properties (List alerts, https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts), matched case-insensitively. */
export const ALERT_FILTER_FIELDS: readonly FieldDef[] = [
	{ name: 'alertCreationTime', type: 'datetime' },
	{ name: 'lastUpdateTime', type: 'datetime' },
	{ name: 'incidentId', type: 'int' },
	{ name: 'investigationId', type: 'int' },
	{ name: 'id', type: 'string' },
	{ name: 'assignedTo', type: 'string' },
	{ name: 'detectionSource', type: 'string' },
	{ name: 'lastEventTime', type: 'datetime' },
	{ name: 'status', type: 'string' },
	{ name: 'severity', type: 'string' },
	{ name: 'category', type: 'string' },
];

export const ALERT_ORDERBY_FIELDS: readonly string[] = ['alertCreationTime', 'lastUpdateTime'];

const EDM: Record<FieldType, string> = { datetime: 'Edm.DateTimeOffset', int: 'Edm.Int64', string: 'Edm.String' };

// ------------------------------------------------------------------------------------------------ tokenizer

type TokenType = 'ident' | 'string' | 'datetime' | 'date' | 'int' | 'decimal' | 'lparen' | 'rparen' | 'comma' | 'eof';

interface Token {
	type: TokenType;
	text: string;
	pos: number;
	value?: string;
}

const DATETIME_RE = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?/y;
const DATE_RE = /\d{4}-\d{2}-\d{2}(?![\dT])/y;
const DECIMAL_RE = /-?\d+\.\d+(?:[eE][+-]?\d+)?/y;
const INT_RE = /-?\d+/y;
const IDENT_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

function syntaxError(source: string, pos: number, detail: string): ODataQueryError {
	return new ODataQueryError(`Syntax error at position ${pos} in '${source}'. ${detail}`);
}

export function tokenize(source: string): Token[] {
	const tokens: Token[] = [];
	let i = 0;
	const sticky = (re: RegExp): string | undefined => {
		re.lastIndex = i;
		const m = re.exec(source);
		return m ? m[0] : undefined;
	};
	while (i < source.length) {
		const c = source[i];
		if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
			i++;
			continue;
		}
		if (c === '(' || c === ')' || c === ',') {
			tokens.push({ type: c === '(' ? 'lparen' : c === ')' ? 'rparen' : 'comma', text: c, pos: i });
			i++;
			continue;
		}
		if (c === "'") {
			let value = '';
			let j = i + 1;
			for (;;) {
				if (j >= source.length) throw syntaxError(source, i, 'Unterminated string literal.');
				if (source[j] === "'") {
					if (source[j + 1] === "'") {
						value += "'";
						j += 2;
						continue;
					}
					break;
				}
				value += source[j];
				j++;
			}
			tokens.push({ type: 'string', text: source.slice(i, j + 1), pos: i, value });
			i = j + 1;
			continue;
		}
		if (/[0-9-]/.test(c)) {
			const dt = sticky(DATETIME_RE);
			if (dt) {
				tokens.push({ type: 'datetime', text: dt, pos: i });
				i += dt.length;
				continue;
			}
			const date = sticky(DATE_RE);
			if (date) {
				tokens.push({ type: 'date', text: date, pos: i });
				i += date.length;
				continue;
			}
			const dec = sticky(DECIMAL_RE);
			if (dec) {
				tokens.push({ type: 'decimal', text: dec, pos: i });
				i += dec.length;
				continue;
			}
			const int = sticky(INT_RE);
			if (int) {
				tokens.push({ type: 'int', text: int, pos: i });
				i += int.length;
				continue;
			}
		}
		const ident = sticky(IDENT_RE);
		if (ident) {
			tokens.push({ type: 'ident', text: ident, pos: i });
			i += ident.length;
			continue;
		}
		throw syntaxError(source, i, `Unexpected character '${c}'.`);
	}
	tokens.push({ type: 'eof', text: '', pos: source.length });
	return tokens;
}

// ------------------------------------------------------------------------------------------------ AST

export type ComparisonOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type Literal =
	| { kind: 'string'; value: string }
	| { kind: 'datetime'; ticks: bigint; text: string }
	| { kind: 'int'; value: bigint }
	| { kind: 'null' };

export type FilterNode =
	| { type: 'and' | 'or'; left: FilterNode; right: FilterNode }
	| { type: 'not'; operand: FilterNode }
	| { type: 'cmp'; op: ComparisonOp; field: FieldDef; literal: Literal };

const COMPARISON_OPS = new Set<string>(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FLIP: Record<ComparisonOp, ComparisonOp> = { eq: 'eq', ne: 'ne', gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };
const OP_KIND: Record<ComparisonOp, string> = {
	eq: 'Equal',
	ne: 'NotEqual',
	gt: 'GreaterThan',
	ge: 'GreaterThanOrEqual',
	lt: 'LessThan',
	le: 'LessThanOrEqual',
};
const KEYWORDS = new Set(['and', 'or', 'not', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'null', 'true', 'false']);

type Operand = { kind: 'field'; field: FieldDef; pos: number } | { kind: 'literal'; literal: Literal; edm: string; pos: number };

class Parser {
	private i = 0;
	constructor(
		private readonly source: string,
		private readonly tokens: Token[],
		private readonly fields: readonly FieldDef[],
	) {}

	private peek(): Token {
		return this.tokens[this.i];
	}

	private next(): Token {
		return this.tokens[this.i++];
	}

	private isKeyword(token: Token, word: string): boolean {
		return token.type === 'ident' && token.text === word;
	}

	parse(): FilterNode {
		if (this.peek().type === 'eof') throw new ODataQueryError('The $filter query option must not be empty.');
		const node = this.parseOr();
		const rest = this.peek();
		if (rest.type !== 'eof') {
			throw syntaxError(this.source, rest.pos, `Expected 'and', 'or' or the end of the expression, found '${rest.text}'.`);
		}
		return node;
	}

	private parseOr(): FilterNode {
		let left = this.parseAnd();
		while (this.isKeyword(this.peek(), 'or')) {
			this.next();
			left = { type: 'or', left, right: this.parseAnd() };
		}
		return left;
	}

	private parseAnd(): FilterNode {
		let left = this.parseUnary();
		while (this.isKeyword(this.peek(), 'and')) {
			this.next();
			left = { type: 'and', left, right: this.parseUnary() };
		}
		return left;
	}

	private parseUnary(): FilterNode {
		const token = this.peek();
		if (this.isKeyword(token, 'not')) {
			this.next();
			const operand = this.peek();
			if (operand.type !== 'lparen' && !this.isKeyword(operand, 'not')) {
				throw new ODataQueryError(
					`A unary operator with an incompatible type was detected at position ${token.pos} in '${this.source}': 'not' applies to a Boolean expression, write not (${operand.text} …).`,
				);
			}
			return { type: 'not', operand: this.parseUnary() };
		}
		if (token.type === 'lparen') {
			this.next();
			const inner = this.parseOr();
			const close = this.next();
			if (close.type !== 'rparen') throw syntaxError(this.source, close.pos, `')' expected, found '${close.text || 'end of input'}'.`);
			return inner;
		}
		return this.parseComparison();
	}

	private parseOperand(): Operand {
		const token = this.next();
		switch (token.type) {
			case 'string':
				return { kind: 'literal', literal: { kind: 'string', value: token.value ?? '' }, edm: 'Edm.String', pos: token.pos };
			case 'datetime':
				return { kind: 'literal', literal: this.datetimeLiteral(token), edm: 'Edm.DateTimeOffset', pos: token.pos };
			case 'int':
				return { kind: 'literal', literal: { kind: 'int', value: BigInt(token.text) }, edm: 'Edm.Int64', pos: token.pos };
			case 'date':
				return { kind: 'literal', literal: { kind: 'null' }, edm: 'Edm.Date', pos: token.pos };
			case 'decimal':
				return { kind: 'literal', literal: { kind: 'null' }, edm: 'Edm.Decimal', pos: token.pos };
			case 'ident': {
				if (token.text === 'null') return { kind: 'literal', literal: { kind: 'null' }, edm: 'null', pos: token.pos };
				if (token.text === 'true' || token.text === 'false') {
					return { kind: 'literal', literal: { kind: 'null' }, edm: 'Edm.Boolean', pos: token.pos };
				}
				if (KEYWORDS.has(token.text)) throw syntaxError(this.source, token.pos, `Expression expected, found keyword '${token.text}'.`);
				const following = this.peek();
				if (following.type === 'lparen') {
					throw new ODataQueryError(`An unknown function with name '${token.text}' was found. Functions are not supported in $filter on alerts.`);
				}
				if (following.type === 'string') {
					throw syntaxError(
						this.source,
						token.pos,
						`Unrecognized '${token.text}' literal prefix; OData v4 writes DateTimeOffset values unquoted (e.g. 2025-03-04T09:15:22.4817263Z).`,
					);
				}
				const field = this.fields.find((f) => f.name.toLowerCase() === token.text.toLowerCase());
				if (!field) {
					throw new ODataQueryError(
						`Could not find a property named '${token.text}' on type 'microsoft.windowsDefenderATP.api.PublicAlert'. Filterable properties: ${this.fields.map((f) => f.name).join(', ')}.`,
					);
				}
				return { kind: 'field', field, pos: token.pos };
			}
			case 'eof':
				throw syntaxError(this.source, token.pos, 'Expression expected at the end of the input.');
			default:
				throw syntaxError(this.source, token.pos, `Expression expected, found '${token.text}'.`);
		}
	}

	private datetimeLiteral(token: Token): Literal {
		const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(?::\d{2}(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(token.text);
		const bad = (): ODataQueryError =>
			new ODataQueryError(
				`The DateTimeOffset text '${token.text}' should be in format 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range.`,
			);
		if (!m || !m[3] || (m[2] !== undefined && m[2].length > 7)) throw bad();
		try {
			return { kind: 'datetime', ticks: toTicks(token.text), text: token.text };
		} catch {
			throw bad();
		}
	}

	private parseComparison(): FilterNode {
		const left = this.parseOperand();
		const opToken = this.next();
		if (opToken.type !== 'ident' || !COMPARISON_OPS.has(opToken.text)) {
			if (left.kind === 'field' && opToken.type === 'eof') {
				throw syntaxError(this.source, opToken.pos, `A comparison operator (eq, ne, gt, ge, lt, le) is expected after '${left.field.name}'.`);
			}
			if (opToken.type === 'ident' && COMPARISON_OPS.has(opToken.text.toLowerCase())) {
				throw syntaxError(this.source, opToken.pos, `Operators are lowercase in OData: use '${opToken.text.toLowerCase()}'.`);
			}
			if (opToken.type === 'ident' && opToken.text === 'in') {
				throw new ODataQueryError("The 'in' operator is not supported in $filter on alerts; combine comparisons with 'or'.");
			}
			throw syntaxError(this.source, opToken.pos, `Comparison operator expected, found '${opToken.text || 'end of input'}'.`);
		}
		const op = opToken.text as ComparisonOp;
		const right = this.parseOperand();
		let field: FieldDef;
		let literal: Operand & { kind: 'literal' };
		let effectiveOp = op;
		if (left.kind === 'field' && right.kind === 'literal') {
			field = left.field;
			literal = right;
		} else if (left.kind === 'literal' && right.kind === 'field') {
			field = right.field;
			literal = left;
			effectiveOp = FLIP[op];
		} else if (left.kind === 'field' && right.kind === 'field') {
			throw new ODataQueryError(`Comparing two properties ('${left.field.name}' ${op} '${right.field.name}') is not supported.`);
		} else {
			throw new ODataQueryError(`A comparison must involve a property of the alert (position ${left.pos} in '${this.source}').`);
		}
		const expected = EDM[field.type];
		if (literal.edm !== 'null' && literal.edm !== expected) {
			throw new ODataQueryError(
				`A binary operator with incompatible types was detected. Found operand types '${expected}' and '${literal.edm}' for operator kind '${OP_KIND[op]}'.` +
					(field.type === 'datetime' && literal.edm === 'Edm.String'
						? ' DateTimeOffset literals are written without quotes, e.g. lastUpdateTime gt 2025-03-04T09:15:22.4817263Z.'
						: ''),
			);
		}
		return { type: 'cmp', op: effectiveOp, field, literal: literal.literal };
	}
}

export function parseFilter(source: string, fields: readonly FieldDef[] = ALERT_FILTER_FIELDS): FilterNode {
	return new Parser(source, tokenize(source), fields).parse();
}

// ------------------------------------------------------------------------------------------------ evaluation

export type FieldReader = (field: FieldDef) => unknown;

function compare(op: ComparisonOp, c: number): boolean {
	switch (op) {
		case 'eq':
			return c === 0;
		case 'ne':
			return c !== 0;
		case 'gt':
			return c > 0;
		case 'ge':
			return c >= 0;
		case 'lt':
			return c < 0;
		case 'le':
			return c <= 0;
	}
}

function evalCmp(node: Extract<FilterNode, { type: 'cmp' }>, raw: unknown): boolean {
	const { op, literal } = node;
	if (literal.kind === 'null') {
		const isNull = raw === null || raw === undefined;
		if (op === 'eq') return isNull;
		if (op === 'ne') return !isNull;
		return false;
	}
	if (raw === null || raw === undefined) return op === 'ne';
	let c: number;
	if (literal.kind === 'datetime') {
		const ticks = typeof raw === 'bigint' ? raw : toTicks(String(raw));
		c = ticks < literal.ticks ? -1 : ticks > literal.ticks ? 1 : 0;
	} else if (literal.kind === 'int') {
		const v = BigInt(raw as number);
		c = v < literal.value ? -1 : v > literal.value ? 1 : 0;
	} else {
		const v = String(raw);
		c = v < literal.value ? -1 : v > literal.value ? 1 : 0;
	}
	return compare(op, c);
}

export function evaluateFilter(node: FilterNode, read: FieldReader): boolean {
	switch (node.type) {
		case 'and':
			return evaluateFilter(node.left, read) && evaluateFilter(node.right, read);
		case 'or':
			return evaluateFilter(node.left, read) || evaluateFilter(node.right, read);
		case 'not':
			return !evaluateFilter(node.operand, read);
		case 'cmp':
			return evalCmp(node, read(node.field));
	}
}

// ------------------------------------------------------------------------------------------------ query options

export interface OrderBy {
	field: string;
	desc: boolean;
}

export interface AlertQuery {
	filter?: FilterNode;
	filterText?: string;
	top?: number;
	skip: number;
	orderBy: OrderBy[];
	expandEvidence: boolean;
}

const SUPPORTED_OPTIONS = new Set(['$filter', '$top', '$skip', '$orderby', '$expand']);

function nonNegativeInt(name: string, value: string): number {
	if (!/^\d+$/.test(value.trim())) {
		throw new ODataQueryError(`Invalid value '${value}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`);
	}
	const n = Number(value.trim());
	if (!Number.isSafeInteger(n)) {
		throw new ODataQueryError(`Invalid value '${value}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`);
	}
	return n;
}

export function parseOrderBy(text: string, allowed: readonly string[] = ALERT_ORDERBY_FIELDS): OrderBy[] {
	const items = text.split(',');
	return items.map((item) => {
		const parts = item.trim().split(/\s+/).filter(Boolean);
		if (parts.length === 0 || parts.length > 2) throw new ODataQueryError(`Syntax error in $orderby '${text}'.`);
		const field = allowed.find((f) => f.toLowerCase() === parts[0].toLowerCase());
		if (!field) {
			throw new ODataQueryError(
				`The query specified in the URI is not valid. Order by '${parts[0]}' is not allowed. Allowed order by properties: ${allowed.join(', ')}.`,
			);
		}
		const dir = parts[1];
		if (dir !== undefined && dir !== 'asc' && dir !== 'desc') {
			throw new ODataQueryError(`Syntax error in $orderby '${text}': expected 'asc' or 'desc' after '${parts[0]}', found '${dir}'.`);
		}
		return { field, desc: dir === 'desc' };
	});
}

/** Parse and validate the query options of `GET /api/alerts`. */
export function parseAlertQuery(params: URLSearchParams, maxTop: number): AlertQuery {
	const seen = new Set<string>();
	for (const key of params.keys()) {
		if (!key.startsWith('$')) continue;
		if (!SUPPORTED_OPTIONS.has(key)) {
			if (SUPPORTED_OPTIONS.has(key.toLowerCase())) {
				throw new ODataQueryError(`The query parameter '${key}' is not supported. OData system query options are lowercase: '${key.toLowerCase()}'.`);
			}
			throw new ODataQueryError(`The query parameter '${key}' is not supported.`);
		}
		if (seen.has(key)) {
			throw new ODataQueryError(`Query option '${key}' was specified more than once, but it must be specified at most once.`);
		}
		seen.add(key);
	}
	const query: AlertQuery = { skip: 0, orderBy: [], expandEvidence: false };
	const filterText = params.get('$filter');
	if (filterText !== null) {
		query.filterText = filterText;
		query.filter = parseFilter(filterText);
	}
	const top = params.get('$top');
	if (top !== null) {
		query.top = nonNegativeInt('$top', top);
		if (query.top > maxTop) {
			throw new ODataQueryError(`The limit of '${maxTop}' for Top query has been exceeded. The value from the incoming request is '${top}'.`);
		}
	}
	const skip = params.get('$skip');
	if (skip !== null) query.skip = nonNegativeInt('$skip', skip);
	const orderBy = params.get('$orderby');
	if (orderBy !== null) query.orderBy = parseOrderBy(orderBy);
	const expand = params.get('$expand');
	if (expand !== null) {
		for (const item of expand.split(',').map((s) => s.trim())) {
			if (item.toLowerCase() !== 'evidence') {
				throw new ODataQueryError(`Could not find a property named '${item}' on type 'microsoft.windowsDefenderATP.api.PublicAlert' to expand. Expandable: evidence.`);
			}
		}
		query.expandEvidence = true;
	}
	return query;
}
