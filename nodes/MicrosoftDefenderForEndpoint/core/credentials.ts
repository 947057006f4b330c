/**
 * Reading and validating the credential's fields: every mistake is reported before any request is made, and no
 * message repeats the value of a credential field (n8n stores error messages unencrypted with the execution, and
 * a secret pasted into the wrong field would land there). Messages name the field, say what a valid value looks
 * like and, where the shape gives it away, what the value seems to be ("looks like a client secret value").
 */
import { type ParsedCertificate, CertificateInputError, checkValidity, parseCertificate } from './certificate';
import { type ApiName, CloudConfigError, type CloudEndpoints, resolveCloud } from './clouds';
import { isGuid } from './ids';
import { redact, registerSecret } from './redact';

export const CREDENTIAL_TYPE = 'microsoftDefenderForEndpointApi';

export class CredentialInputError extends Error {
	constructor(
		message: string,
		readonly hint: string,
		/** the credential (or node) field that is wrong */
		readonly field?: string,
	) {
		super(message);
		this.name = 'CredentialInputError';
	}
}

const DOMAIN_RE = /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

/**
 * Entra client secret values are 40 random characters from [A-Za-z0-9~._-] with a `~` (e.g. `Xy8Q~…`). Anything
 * long, without spaces and with a `~`, or long and random-looking without a dot, is treated as possibly secret.
 */
export function looksLikeClientSecret(value: string): boolean {
	const v = value.trim();
	if (v.length < 20 || /\s/.test(v) || isGuid(v)) return false;
	if (v.includes('~')) return true;
	return v.length >= 30 && !v.includes('.') && /[A-Z]/.test(v) && /[a-z]/.test(v) && /\d/.test(v);
}

/** What a value looks like, without repeating it. */
export function describeValue(value: string): string {
	const v = value.trim();
	if (redact(v) !== v || looksLikeClientSecret(v)) return 'the value entered looks like a client secret value';
	if (isGuid(v)) return 'the value entered is a GUID';
	if (/^https?:\/\//i.test(v)) return 'the value entered is a URL';
	if (/-----BEGIN [A-Z ]+-----/.test(v)) return 'the value entered is a PEM block (a certificate or key)';
	if (/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(v)) return 'the value entered looks like an e-mail address';
	if (DOMAIN_RE.test(v)) return 'the value entered looks like a domain name';
	return `the value entered has ${v.length} characters`;
}

/**
 * A value a node parameter may repeat in its message: short, not a known or likely secret. (Credential fields are
 * never repeated.)
 */
export function safeToEcho(value: string): boolean {
	return value.length <= 80 && redact(value) === value && !looksLikeClientSecret(value) && !/-----BEGIN /.test(value);
}

/**
 * A tenant is a GUID or a verified domain; `common`, `organizations` and `consumers` cannot issue app tokens.
 * `echo`: whether the message may repeat the value (node parameters, when it is not secret-like); never for the
 * credential's own Tenant ID field.
 */
export function validateTenantId(raw: unknown, label = 'Tenant ID', options: { echo?: boolean } = {}): string {
	const echo = options.echo ?? true;
	const value = typeof raw === 'string' ? raw.trim() : '';
	if (!value) {
		throw new CredentialInputError(`${label} is empty`, 'Enter the tenant GUID (Entra ID → Overview → Tenant ID) or a verified domain such as contoso.onmicrosoft.com.', label);
	}
	if (/^(common|organizations|consumers)$/i.test(value)) {
		throw new CredentialInputError(
			`${label} "${value.toLowerCase()}" is not a specific tenant`,
			'App-only tokens are issued by one tenant: enter its GUID or verified domain (e.g. contoso.onmicrosoft.com).',
			label,
		);
	}
	if (isGuid(value)) return value.toLowerCase();
	if (DOMAIN_RE.test(value)) return value.toLowerCase();
	const named = echo && safeToEcho(value) ? `${label} "${value}"` : `${label} (${describeValue(value)})`;
	throw new CredentialInputError(
		`${named} is neither a GUID nor a domain`,
		'Use the tenant GUID (8-4-4-4-12 hex digits, Entra ID → Overview → Tenant ID) or a verified domain such as contoso.onmicrosoft.com.' +
			(looksLikeClientSecret(value) ? ' A client secret belongs into the Client Secret field only.' : ''),
		label,
	);
}

export type AuthMethod = 'clientSecret' | 'certificate';

/** How the app proves its identity to Microsoft Entra. */
export type ClientAuth = { kind: 'secret'; secret: string } | { kind: 'certificate'; certificate: ParsedCertificate };

/** What the token layer needs to ask for one tenant's token. */
export interface TokenTarget {
	authorityHost: string; // https://login.microsoftonline.com
	tenantId: string;
	clientId: string;
	auth: ClientAuth;
	/** the secret for secret credentials, '' for certificates */
	clientSecret: string;
	scope: string;
	/** Authority msal does not know (custom cloud / emulator): msal then reads its OpenID configuration. */
	customAuthority: boolean;
}

export interface DefenderCredential {
	tenantId: string;
	clientId: string;
	auth: ClientAuth;
	/** the secret for secret credentials, '' for certificates */
	clientSecret: string;
	endpoints: CloudEndpoints;
	/** the API alert operations use (the credential's "Alerts API"; saved credentials without it: Defender) */
	alertsApi: ApiName;
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** Mask every secret-bearing field value in later messages (a GUID, e.g. a pasted Secret ID, is not masked). */
export function registerCredentialSecrets(data: Record<string, unknown>): void {
	for (const key of ['clientSecret', 'privateKey', 'privateKeyPassphrase', 'tenantId', 'clientId', 'scope', 'authorityHost', 'apiBaseUrl']) {
		const v = str(data[key]).trim();
		if (!v || isGuid(v)) continue;
		if (key === 'clientSecret' || key === 'privateKey' || key === 'privateKeyPassphrase' || looksLikeClientSecret(v)) registerSecret(v);
	}
}

function readClientId(data: Record<string, unknown>, tenantId: string): string {
	const clientId = str(data.clientId).trim();
	if (!clientId) {
		throw new CredentialInputError('Application (client) ID is empty', 'Copy the Application (client) ID from the app registration\'s Overview page.', 'clientId');
	}
	if (!isGuid(clientId)) {
		const v = describeValue(clientId);
		const swapped = /client secret/.test(v)
			? ': did you paste the client secret into this field?'
			: /domain name/.test(v)
				? ': did you swap Tenant ID and Application (client) ID?'
				: '';
		throw new CredentialInputError(
			`Application (client) ID is not a GUID (${v}${swapped})`,
			'Copy the Application (client) ID (8-4-4-4-12 hex digits) from the app registration\'s Overview page.',
			'clientId',
		);
	}
	if (clientId.toLowerCase() === tenantId) {
		throw new CredentialInputError(
			'Application (client) ID is the same GUID as the Tenant ID',
			'The app registration\'s Overview page shows both: "Application (client) ID" and "Directory (tenant) ID" are different GUIDs.',
			'clientId',
		);
	}
	return clientId.toLowerCase();
}

function readAuth(data: Record<string, unknown>, now: Date): ClientAuth {
	const method = (str(data.authentication).trim() || 'clientSecret') as AuthMethod;
	if (method === 'certificate') {
		try {
			const certificate = parseCertificate({ certificate: str(data.certificate), privateKey: str(data.privateKey), passphrase: str(data.privateKeyPassphrase) || undefined });
			checkValidity(certificate, now);
			registerSecret(certificate.privateKeyPem);
			return { kind: 'certificate', certificate };
		} catch (error) {
			if (error instanceof CertificateInputError) throw new CredentialInputError(error.message, error.hint, error.field);
			throw error;
		}
	}
	if (method !== 'clientSecret') {
		throw new CredentialInputError('Authentication is not a known method', 'Choose Client Secret or Certificate.', 'authentication');
	}
	const secret = str(data.clientSecret).trim();
	if (!secret) {
		throw new CredentialInputError('Client Secret is empty', 'Create a secret under Certificates & secrets in the app registration and paste its Value.', 'clientSecret');
	}
	if (/-----BEGIN [A-Z ]+-----/.test(secret)) {
		throw new CredentialInputError(
			'Client Secret holds a PEM block (a certificate or key), not a secret value',
			'For certificate sign-in set Authentication to Certificate and paste the certificate and key into their fields; otherwise paste the secret Value.',
			'clientSecret',
		);
	}
	return { kind: 'secret', secret };
}

/** The credential's cloud settings; a message never repeats a URL or scope that was typed. */
function readEndpoints(data: Record<string, unknown>): CloudEndpoints {
	try {
		return resolveCloud({
			cloud: data.cloud as string | undefined,
			authorityHost: data.authorityHost as string | undefined,
			apiBaseUrl: data.apiBaseUrl as string | undefined,
			scope: data.scope as string | undefined,
			graphBaseUrl: data.graphBaseUrl as string | undefined,
			graphScope: data.graphScope as string | undefined,
		});
	} catch (error) {
		if (error instanceof CloudConfigError) {
			// core/clouds quotes the value it rejects; a credential message names the field only.
			const message = error.message.replace(/\s*"[^"]*"/g, '');
			throw new CredentialInputError(message, error.hint);
		}
		throw error;
	}
}

export function readCredential(data: Record<string, unknown>, now: Date = new Date()): DefenderCredential {
	registerCredentialSecrets(data);
	const tenantId = validateTenantId(data.tenantId, 'Tenant ID', { echo: false });
	const clientId = readClientId(data, tenantId);
	const auth = readAuth(data, now);
	const endpoints = readEndpoints(data);
	const alertsApi = readAlertsApi(data, endpoints);
	return { tenantId, clientId, auth, clientSecret: auth.kind === 'secret' ? auth.secret : '', endpoints, alertsApi };
}

/**
 * The credential's Alerts API. Credentials saved before the field existed have no value, and n8n gives them the
 * field's default: the Defender for Endpoint API (their customers consented to WindowsDefenderATP permissions only).
 */
function readAlertsApi(data: Record<string, unknown>, endpoints: CloudEndpoints): ApiName {
	const raw = str(data.alertsApi).trim() || 'defender';
	if (raw !== 'defender' && raw !== 'graph') {
		throw new CredentialInputError('Alerts API is not a known API', 'Choose Defender for Endpoint API or Microsoft Graph Security API.', 'alertsApi');
	}
	if (raw === 'graph' && (!endpoints.graphBaseUrl || !endpoints.graphScope)) {
		throw new CredentialInputError(
			'Graph Base URL is empty',
			'Alerts API is Microsoft Graph Security API, but the custom cloud has no Microsoft Graph host: enter its Graph Base URL (e.g. https://graph.microsoft.com), or set Alerts API to Defender for Endpoint API.',
			'graphBaseUrl',
		);
	}
	return raw;
}

/** The token scope `api` needs for this credential (Defender: the credential's scope; Graph: the cloud's Graph scope). */
export function apiScope(credential: DefenderCredential, api: ApiName): string {
	if (api === 'graph') {
		if (!credential.endpoints.graphScope) throw new CredentialInputError('Graph Base URL is empty', 'Enter the custom cloud\'s Graph Base URL, or use the Defender for Endpoint API.', 'graphBaseUrl');
		return credential.endpoints.graphScope;
	}
	return credential.endpoints.scope;
}

/** What the broker needs for one tenant's token; `scope`: the API's scope (default: the Defender scope). */
export function tokenTarget(credential: DefenderCredential, tenantId = credential.tenantId, scope = credential.endpoints.scope): TokenTarget {
	return {
		authorityHost: credential.endpoints.authorityHost,
		tenantId,
		clientId: credential.clientId,
		auth: credential.auth,
		clientSecret: credential.clientSecret,
		scope,
		customAuthority: credential.endpoints.customAuthority,
	};
}
