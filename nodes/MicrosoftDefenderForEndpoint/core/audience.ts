/**
 * Which API a token is for (its `aud` claim), so that a token for another resource is reported as such and not as
 * a missing permission. No n8n types.
 *
 * Defender for Endpoint resources: the documented scope https://api.securitycenter.microsoft.com/.default and the
 * WindowsDefenderATP application URI https://securitycenter.onmicrosoft.com/windowsatpservice
 * (https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-create-app-webapp), the current and legacy
 * API hosts (https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-list) and the US Government API
 * hosts (https://learn.microsoft.com/en-us/defender-endpoint/gov). Which of them every endpoint accepts is not fully
 * documented, so only audiences that are clearly another Microsoft API are called "wrong" before the API answers.
 */

/** The WindowsDefenderATP resource application (v2 tokens may carry its app id as `aud`). */
export const WINDOWS_DEFENDER_ATP_APP_ID = 'fc780465-2017-40d4-a0c5-307022471b92';

/** The Microsoft Graph resource application (tokens may carry its app id as `aud`). */
export const MICROSOFT_GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

const GRAPH_RESOURCE_RE = /^https:\/\/(graph\.microsoft\.(com|us)|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn|canary\.graph\.microsoft\.com)$/;

export const DEFENDER_RESOURCES: readonly string[] = [
	'https://api.securitycenter.microsoft.com',
	'https://securitycenter.onmicrosoft.com/windowsatpservice',
	'https://api.security.microsoft.com',
	'https://api.securitycenter.windows.com',
	'https://api-gcc.securitycenter.microsoft.us',
	'https://api-gov.securitycenter.microsoft.us',
	'https://api.securitycenter.microsoft.us',
	'https://securitycenter.onmicrosoft.us/windowsatpservice',
	WINDOWS_DEFENDER_ATP_APP_ID,
];

/** Audiences of other Microsoft APIs a credential is easily pointed at by mistake, with a name for messages. */
const OTHER_APIS: Array<[RegExp, string]> = [
	[/^https:\/\/(graph\.microsoft\.(com|us)|dod-graph\.microsoft\.us|microsoftgraph\.chinacloudapi\.cn|canary\.graph\.microsoft\.com)$/, 'Microsoft Graph'],
	[/^00000003-0000-0000-c000-000000000000$/, 'Microsoft Graph'],
	[/^https:\/\/graph\.windows\.net$/, 'Azure AD Graph'],
	[/^https:\/\/management\.(azure\.com|core\.windows\.net|usgovcloudapi\.net|chinacloudapi\.cn)$/, 'Azure Resource Manager'],
	[/^https:\/\/vault\.azure\.net$/, 'Azure Key Vault'],
	[/^https:\/\/(outlook\.office(365)?\.com|manage\.office\.com)$/, 'Microsoft 365'],
	[/^https:\/\/api\.loganalytics\.io$/, 'Log Analytics'],
];

export function normalizeResource(value: string | undefined): string {
	return (value ?? '').trim().replace(/\/\.default$/i, '').replace(/\/+$/, '').toLowerCase();
}

/** The resource a `…/.default` scope asks for. */
export function scopeResource(scope: string): string {
	return normalizeResource(scope);
}

/** A Microsoft Graph resource (any national cloud) or the Graph app id. */
export function isGraphResource(aud: string | undefined): boolean {
	const a = normalizeResource(aud);
	return GRAPH_RESOURCE_RE.test(a) || a === MICROSOFT_GRAPH_APP_ID;
}

export function isDefenderResource(aud: string | undefined): boolean {
	const a = normalizeResource(aud);
	return DEFENDER_RESOURCES.includes(a);
}

/** Name of the other Microsoft API an audience belongs to, if it is one we know. */
export function otherApiName(aud: string | undefined): string | undefined {
	const a = normalizeResource(aud);
	return OTHER_APIS.find(([re]) => re.test(a))?.[1];
}

/** Whether the token's audience is what the credential's scope asks for. */
export function audienceMatchesScope(aud: string | undefined, scope: string): boolean {
	const a = normalizeResource(aud);
	if (!a) return false;
	const want = scopeResource(scope);
	if (a === want) return true;
	// v2 tokens for WindowsDefenderATP (or Graph) may carry the resource app id instead of its URI.
	if (a === MICROSOFT_GRAPH_APP_ID) return GRAPH_RESOURCE_RE.test(want);
	return a === WINDOWS_DEFENDER_ATP_APP_ID && DEFENDER_RESOURCES.includes(want);
}

export interface AudienceProblem {
	/** the token's audience as issued */
	audience: string;
	/** e.g. "Microsoft Graph" when known */
	api?: string;
}

/**
 * A token that is surely not for the Defender API: its audience is another Microsoft API we know. (An unknown
 * audience is left to the API to judge; see `apiSaysWrongAudience` for its answer.)
 */
export function knownWrongAudience(aud: string | undefined): AudienceProblem | undefined {
	if (!aud || isDefenderResource(aud)) return undefined;
	const api = otherApiName(aud);
	return api ? { audience: aud, api } : undefined;
}

/** The API's own words (error message or WWW-Authenticate header) say the audience is wrong. */
export function apiSaysWrongAudience(...texts: Array<string | undefined>): boolean {
	return texts.some((t) => typeof t === 'string' && /audience|\baud\b/i.test(t));
}

/** One sentence naming what the token is for and what to choose instead. */
export function wrongAudienceAdvice(problem: AudienceProblem, scope: string, custom: boolean): string {
	const what = problem.api ? `${problem.api} (${problem.audience})` : `"${problem.audience}"`;
	const fix = custom
		? `Set the credential's Token Scope to the Defender for Endpoint resource, e.g. https://api.securitycenter.microsoft.com/.default (US Government: https://api-gov.securitycenter.microsoft.us/.default), or choose the built-in Cloud that matches the tenant.`
		: `Choose the Cloud where the tenant's Defender for Endpoint lives (Commercial, GCC, GCC High or DoD); the credential asks for ${scope}.`;
	return `The access token is for ${what}, not for the Defender for Endpoint API. ${fix}`;
}

/**
 * A token that is surely not for the API `scope` asks for: for a Defender scope as `knownWrongAudience`; for a
 * Microsoft Graph scope any Defender resource, any other Microsoft API we know, or the Graph of another cloud.
 */
export function wrongAudienceForScope(aud: string | undefined, scope: string): AudienceProblem | undefined {
	if (!aud || audienceMatchesScope(aud, scope)) return undefined;
	if (!isGraphResource(scopeResource(scope))) return knownWrongAudience(aud);
	if (isDefenderResource(aud)) return { audience: aud, api: 'Defender for Endpoint' };
	if (isGraphResource(aud)) return { audience: aud, api: 'Microsoft Graph of another cloud' };
	const api = otherApiName(aud);
	return api ? { audience: aud, api } : undefined;
}

/**
 * A token that is surely not for the API a request goes to, whatever scope the credential asks for (a custom Token
 * Scope of another API gives a token of that API): Defender as `knownWrongAudience`; Graph needs a Graph audience
 * (of the scope's cloud).
 */
export function wrongAudienceForApi(aud: string | undefined, scope: string, api: 'defender' | 'graph'): AudienceProblem | undefined {
	if (api === 'defender') return knownWrongAudience(aud);
	const byScope = wrongAudienceForScope(aud, scope);
	if (byScope || !aud || isGraphResource(aud)) return byScope;
	if (isDefenderResource(aud)) return { audience: aud, api: 'Defender for Endpoint' };
	const other = otherApiName(aud);
	return other ? { audience: aud, api: other } : undefined;
}

/** `wrongAudienceAdvice` for the API the scope belongs to (Defender for Endpoint or Microsoft Graph). */
export function wrongAudienceAdviceForScope(problem: AudienceProblem, scope: string, custom: boolean, api?: 'defender' | 'graph'): string {
	if (api !== 'graph' && !isGraphResource(scopeResource(scope))) return wrongAudienceAdvice(problem, scope, custom);
	const what = problem.api ? `${problem.api} (${problem.audience})` : `"${problem.audience}"`;
	const fix = custom
		? `Set the credential's Graph Token Scope to the Microsoft Graph resource of the cloud, e.g. https://graph.microsoft.com/.default (GCC High: https://graph.microsoft.us/.default, DoD: https://dod-graph.microsoft.us/.default), or choose the built-in Cloud that matches the tenant.`
		: `Choose the Cloud where the tenant lives (Commercial, GCC, GCC High or DoD); the credential asks for ${scope}.`;
	return `The access token is for ${what}, not for the Microsoft Graph Security API. ${fix}`;
}
