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

import { wrongAudienceAdviceForScope, wrongAudienceForApi } from '../nodes/MicrosoftDefenderForEndpoint/core/audience';
import { API_LABELS, apiBaseUrlExpression, CLOUD_LABELS, consentLink, fixedClouds, testPathExpression } from '../nodes/MicrosoftDefenderForEndpoint/core/clouds';
import { apiScope, CredentialInputError, readCredential, tokenTarget } from '../nodes/MicrosoftDefenderForEndpoint/core/credentials';
import { decodeTokenClaims } from '../nodes/MicrosoftDefenderForEndpoint/core/jwt';
import { tokenHttpFrom } from '../nodes/MicrosoftDefenderForEndpoint/transport/n8nHttp';
import { requestScope } from '../nodes/MicrosoftDefenderForEndpoint/transport/requestScope';
import { tokenBroker, TokenError } from '../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { USER_AGENT } from '../nodes/MicrosoftDefenderForEndpoint/core/version';

/** Microsoft's guide to partner (multi-tenant) apps: permissions, the consent URL and the steps (the notices link it). */
export const ONBOARDING_GUIDE_URL = 'https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-create-app-partners';

/**
 * One notice per consent host (Commercial and GCC share one, GCC High and DoD another), derived from core/clouds.
 * Short on purpose, with a real link: n8n renders a notice's displayName as sanitized HTML (a, b), but the exact
 * consent link needs the client ID, which a credential description cannot read, so the node builds it
 * (Tenant → Get Consent Link) and the notice says where.
 */
function consentNotices(): INodeProperties[] {
	const byHost = new Map<string, string[]>();
	for (const c of fixedClouds()) byHost.set(c.consentHost, [...(byHost.get(c.consentHost) ?? []), c.cloud]);
	return [...byHost].map(([consentHost, clouds]) => ({
		displayName:
			`<b>MSSP customer onboarding:</b> a Global Administrator of each customer tenant accepts this app at ${new URL(consentLink({ consentHost }, 'x')).host}, and must consent again after permissions are added. ` +
			`The node's <b>Tenant → Get Consent Link</b> builds the link; <a href="${ONBOARDING_GUIDE_URL}" target="_blank">permissions and steps</a>.`,
		name: `consentNotice_${clouds.join('_')}`,
		type: 'notice' as const,
		default: '',
		displayOptions: { show: { cloud: clouds } },
	}));
}

const hostOf = (url: string) => new URL(url).host;

/** The Cloud options, derived from core/clouds, in its order: Commercial, GCC, GCC High, DoD, then Custom. */
const CLOUD_OPTIONS = [
	...fixedClouds().map((c) => ({
		name: c.label,
		value: c.cloud,
		description: `${hostOf(c.authorityHost)} and ${hostOf(c.apiBaseUrl)}${c.cloud === 'commercial' ? ' (regions are chosen in the node)' : ''}`,
	})),
	{ name: CLOUD_LABELS.custom, value: 'custom', description: 'Your own authority, API base URL and token scope (https only)' },
];

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
		{
			displayName: 'Alerts API',
			name: 'alertsApi',
			type: 'options',
			options: [
				{
					name: API_LABELS.defender,
					value: 'defender',
					description: 'The WindowsDefenderATP API (api.security.microsoft.com); Microsoft retires it on 2027-02-01 (MC1220762)',
				},
				{
					name: API_LABELS.graph,
					value: 'graph',
					description: 'alerts_v2 on Microsoft Graph (needs the Graph permissions SecurityAlert.Read.All or SecurityAlert.ReadWrite.All, consented again by every customer)',
				},
			],
			default: 'defender',
			description:
				'Which API the alert operations use. Machines and indicators exist on the Defender for Endpoint API only and keep using it with the same app. Region does not apply to Microsoft Graph (one host per cloud).',
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
			// n8n's form shows this field as "Client ID" whatever the displayName says; the README uses that label
			displayName: 'Client ID',
			name: 'clientId',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. 5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f',
			description: 'The Application (client) ID from the app registration\'s Overview page (a multi-tenant app for MSSPs). It needs WindowsDefenderATP application permissions such as Alert.Read.All or Alert.ReadWrite.All (Microsoft Graph: SecurityAlert.*); Tenant → Check Access lists what each operation needs.',
		},
		{
			displayName: 'Authentication',
			name: 'authentication',
			type: 'options',
			options: [
				{ name: 'Client Secret', value: 'clientSecret', description: 'A secret from Certificates & secrets (expires after at most two years)' },
				{
					name: 'Certificate',
					value: 'certificate',
					description: 'A certificate uploaded to the app registration and its private key (no secret to rotate every year; suits MSSPs)',
				},
			],
			default: 'clientSecret',
			description: 'How the app proves its identity to Microsoft Entra ID',
		},
		{
			displayName: 'Client Secret',
			name: 'clientSecret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authentication: ['clientSecret'] } },
			hint: "The secret's <b>Value</b>, not its Secret ID",
			description: 'From Certificates & secrets → Client secrets: the Value column, shown only once when the secret is created',
		},
		{
			displayName: 'Certificate',
			name: 'certificate',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authentication: ['certificate'] } },
			placeholder: '-----BEGIN CERTIFICATE----- …',
			description:
				'The PEM certificate whose public part is uploaded under Certificates & secrets → Certificates (chain certificates may follow it). Its SHA-256 thumbprint is computed from it. Line breaks may be flattened.',
		},
		{
			displayName: 'Private Key',
			name: 'privateKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authentication: ['certificate'] } },
			placeholder: '-----BEGIN PRIVATE KEY----- …',
			description: 'The PEM RSA private key of the certificate (PKCS#8 or PKCS#1, optionally encrypted). Line breaks may be flattened.',
		},
		{
			displayName: 'Private Key Passphrase',
			name: 'privateKeyPassphrase',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			displayOptions: { show: { authentication: ['certificate'] } },
			description: 'Only for an encrypted private key (-----BEGIN ENCRYPTED PRIVATE KEY-----)',
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
			displayName: 'Graph Base URL',
			name: 'graphBaseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://graph.microsoft.com',
			displayOptions: { show: { cloud: ['custom'] } },
			description: 'Microsoft Graph origin (https only), without /v1.0. Needed when Alerts API is Microsoft Graph Security API.',
		},
		{
			displayName: 'Graph Token Scope',
			name: 'graphScope',
			type: 'string',
			default: '',
			placeholder: 'https://graph.microsoft.com/.default',
			displayOptions: { show: { cloud: ['custom'] } },
			description: 'Resource scope for Microsoft Graph ending in /.default; empty: the Graph Base URL\'s origin + /.default',
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
		// The scope of the API the request goes to (the transport says which); outside a request (Test), the Alerts API's.
		const tokenScope = scope?.scope ?? apiScope(parsed, parsed.alertsApi);
		let token;
		try {
			token = await tokenBroker.acquire(tokenTarget(parsed, scope?.tenantId ?? parsed.tenantId, tokenScope), http, { rejectedToken: rejected });
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
		// A token for another API (e.g. a custom Token Scope of Microsoft Graph) would be refused with a 403 that reads
		// like a missing permission: say what it is before it is sent.
		// Which API the scope is for: Graph only when it is the Graph scope and not also the Defender one (the transport,
		// which knows the API of each request, checks a misconfigured Graph Token Scope before sending).
		const api = tokenScope === parsed.endpoints.graphScope && tokenScope !== parsed.endpoints.scope ? 'graph' : 'defender';
		const wrong = wrongAudienceForApi(decodeTokenClaims(token.accessToken).aud, tokenScope, api);
		if (wrong) throw new Error(wrongAudienceAdviceForScope(wrong, tokenScope, parsed.endpoints.cloud === 'custom', api));
		if (scope) scope.token = token.accessToken;
		return { accessToken: token.accessToken };
	}

	authenticate: IAuthenticate = async (credentials, requestOptions) => {
		const token = requestScope.getStore()?.token ?? (credentials.accessToken as string);
		requestOptions.headers = { ...(requestOptions.headers ?? {}), Authorization: `Bearer ${token}` };
		return requestOptions;
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: TEST_BASE_URL,
			url: testPathExpression(),
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
						'Signed in, but the API refused access (HTTP 403). Usually the app may not read alerts in this tenant: with Alerts API = Defender for Endpoint API it needs the WindowsDefenderATP application permission Alert.Read.All (or Alert.ReadWrite.All; API permissions → APIs my organization uses → WindowsDefenderATP); with Microsoft Graph Security API the Microsoft Graph application permission SecurityAlert.Read.All (or SecurityAlert.ReadWrite.All; API permissions → Microsoft Graph). Then grant admin consent in this tenant (every customer tenant consents again after a permission is added). If the app has it, the token is for another API: check the Cloud (and a custom token scope).',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message:
						'Signed in, but the API refused the token: check that the Cloud matches the tenant (commercial vs US Government) and, for a custom cloud, the token scope (Token Scope for the Defender for Endpoint API, Graph Token Scope for Microsoft Graph).',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'Signed in, but no alerts API answered at this address: check the Cloud, or the API Base URL (Graph Base URL with Microsoft Graph) of a custom cloud.',
				},
			},
		],
	};
}
