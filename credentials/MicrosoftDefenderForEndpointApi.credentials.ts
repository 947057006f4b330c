import type {
	IAuthenticate,
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IDataObject,
	IHttpRequestHelper,
	Icon,
	INodeProperties,
} from 'n8n-workflow';

import { apiBaseUrlExpression, CLOUD_LABELS, consentLink, fixedClouds } from '../nodes/MicrosoftDefenderForEndpoint/core/clouds';
import { CredentialInputError, readCredential, tokenTarget } from '../nodes/MicrosoftDefenderForEndpoint/core/credentials';
import { tokenHttpFrom } from '../nodes/MicrosoftDefenderForEndpoint/transport/n8nHttp';
import { requestScope } from '../nodes/MicrosoftDefenderForEndpoint/transport/requestScope';
import { tokenBroker, TokenError } from '../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { USER_AGENT } from '../nodes/MicrosoftDefenderForEndpoint/core/version';

const PERMISSIONS_TEXT =
	'Application permissions on <b>WindowsDefenderATP</b>: <b>Alert.Read.All</b> (read alerts, trigger) or <b>Alert.ReadWrite.All</b> (also update, comment, create). ' +
	'Optional for "Get Related": URL.Read.All (domains), File.Read.All (files), Ip.Read.All (IPs), Machine.Read.All (machine), User.Read.All (user).';

const CLIENT_ID_PLACEHOLDER = 'CLIENT-ID-PLACEHOLDER';

/** One notice per consent host (Commercial and GCC share one, GCC High and DoD another), derived from core/clouds. */
function consentNotices(): INodeProperties[] {
	const byHost = new Map<string, string[]>();
	for (const c of fixedClouds()) byHost.set(c.consentHost, [...(byHost.get(c.consentHost) ?? []), c.cloud]);
	return [...byHost].map(([consentHost, clouds]) => {
		const link = consentLink({ consentHost }, CLIENT_ID_PLACEHOLDER)
			.replace(/&/g, '&amp;')
			.replace(CLIENT_ID_PLACEHOLDER, '&lt;Application (client) ID&gt;');
		return {
			displayName:
				`Customer onboarding: a Global Administrator of each customer tenant opens <code>${link}</code> and accepts. ` +
				`${PERMISSIONS_TEXT} The node's Tenant → Get Consent Link operation builds the exact link.`,
			name: `consentNotice_${clouds.join('_')}`,
			type: 'notice' as const,
			default: '',
			displayOptions: { show: { cloud: clouds } },
		};
	});
}

const hostOf = (url: string) => new URL(url).host;

/** The Cloud options, derived from core/clouds (sorted by name, as n8n lists options). */
const CLOUD_OPTIONS = [
	...fixedClouds().map((c) => ({
		name: c.label,
		value: c.cloud,
		description: `${hostOf(c.authorityHost)} and ${hostOf(c.apiBaseUrl)}${c.cloud === 'commercial' ? ' (regions are chosen in the node)' : ''}`,
	})),
	{ name: CLOUD_LABELS.custom, value: 'custom', description: 'Your own authority, API base URL and token scope (https only)' },
].sort((a, b) => a.name.localeCompare(b.name));

/** API base for the credential test request: an n8n expression over the credential's own fields (core/clouds). */
const TEST_BASE_URL = apiBaseUrlExpression();

export class MicrosoftDefenderForEndpointApi implements ICredentialType {
	name = 'microsoftDefenderForEndpointApi';

	displayName = 'Microsoft Defender for Endpoint API';

	icon: Icon = { light: 'file:../icons/defender.svg', dark: 'file:../icons/defender.dark.svg' };

	documentationUrl = 'https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-create-app-partners';

	properties: INodeProperties[] = [
		{
			displayName: 'Cloud',
			name: 'cloud',
			type: 'options',
			options: CLOUD_OPTIONS,
			default: 'commercial',
			description: 'Sets the sign-in host, the token scope and the Defender API host together',
		},
		...consentNotices(),
		{
			displayName: 'Tenant ID',
			name: 'tenantId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. 11111111-2222-3333-4444-555555555555 or contoso.onmicrosoft.com',
			description: 'The tenant whose Defender data this credential reads: its GUID or a verified domain. MSSPs: the customer tenant (the node can override it per item).',
		},
		{
			displayName: 'Application (Client) ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. 5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f',
			description: 'From the app registration\'s Overview page (a multi-tenant app for MSSPs)',
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: 'The secret VALUE from Certificates & secrets (shown once when created), not the Secret ID',
		},
		{
			displayName: 'Authority Host URL',
			name: 'authorityHost',
			type: 'string',
			default: '',
			placeholder: 'https://login.example.com',
			required: true,
			displayOptions: { show: { cloud: ['custom'] } },
			description: 'Sign-in host (https only); tokens are requested from <host>/<tenant>/oauth2/v2.0/token',
		},
		{
			displayName: 'API Base URL',
			name: 'apiBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api.example.com',
			required: true,
			displayOptions: { show: { cloud: ['custom'] } },
			description: 'Defender API origin (https only), without /api',
		},
		{
			displayName: 'Token Scope',
			name: 'scope',
			type: 'string',
			default: 'https://api.securitycenter.microsoft.com/.default',
			displayOptions: { show: { cloud: ['custom'] } },
			description: 'Resource scope ending in /.default',
		},
		{
			displayName: 'Access Token',
			name: 'accessToken',
			type: 'hidden',
			typeOptions: { expirable: true, password: true },
			default: '',
		},
	];

	/**
	 * Runs when n8n has no token yet, after the API answered 401, and on "Test". The token comes from the shared
	 * msal-backed broker (one request per tenant per token lifetime); msal's HTTP goes through `this.helpers`,
	 * which n8n restricts to the credential's allowed domains. Inside a node request the transport's request
	 * scope says which tenant (per-item customer tenant) and which token was just sent.
	 */
	async preAuthentication(this: IHttpRequestHelper, credentials: ICredentialDataDecryptedObject): Promise<IDataObject> {
		let parsed;
		try {
			parsed = readCredential(credentials);
		} catch (error) {
			if (error instanceof CredentialInputError) throw new Error(`${error.message}. ${error.hint}`);
			throw error;
		}
		const scope = requestScope.getStore();
		const stored = typeof credentials.accessToken === 'string' ? credentials.accessToken : '';
		// n8n calls this with a non-empty stored token only after a 401 (or for "Test"): then the token just sent
		// was rejected and must be replaced; with an empty field it is the first use and the current token is fine.
		const rejected = stored ? (scope?.token ?? stored) : undefined;
		const http = tokenHttpFrom((options) => this.helpers.httpRequest(options));
		try {
			const token = await tokenBroker.acquire(tokenTarget(parsed, scope?.tenantId ?? parsed.tenantId), http, { rejectedToken: rejected });
			if (scope) scope.token = token.accessToken;
			return { accessToken: token.accessToken };
		} catch (error) {
			if (error instanceof TokenError) {
				const ids = [error.details.correlationId && `Correlation ID: ${error.details.correlationId}`, error.details.traceId && `Trace ID: ${error.details.traceId}`]
					.filter(Boolean)
					.join(', ');
				// The message is what n8n's credential test shows; the cause lets the transport report it precisely.
				throw new Error(`${error.message}. ${error.hint}${ids ? ` (${ids})` : ''}`, { cause: error });
			}
			throw error;
		}
	}

	authenticate: IAuthenticate = async (credentials, requestOptions) => {
		const token = requestScope.getStore()?.token ?? (credentials.accessToken as string);
		requestOptions.headers = { ...(requestOptions.headers ?? {}), Authorization: `Bearer ${token}` };
		return requestOptions;
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url: '/api/alerts',
			method: 'GET',
			qs: { $top: 1 },
			headers: { 'User-Agent': USER_AGENT },
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message:
						'Signed in, but the app may not read alerts in this tenant: it needs the WindowsDefenderATP application permission Alert.Read.All (or Alert.ReadWrite.All). Add it under API permissions → APIs my organization uses → WindowsDefenderATP, then grant admin consent in this tenant.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'Signed in, but Defender refused the token: check that the Cloud matches the tenant (commercial vs US Government) and, for a custom cloud, the token scope.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'Signed in, but no Defender API answered at this address: check the Cloud, or the API Base URL of a custom cloud.',
				},
			},
		],
	};
}
