/**
 * Certificate credentials (Microsoft identity platform application authentication certificate credentials,
 * https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials): the PEM certificate uploaded to
 * the app registration and its private key. Everything is checked here, before any request: PEM shape (line breaks
 * flattened by a single-line field are repaired), an encrypted key without or with a wrong passphrase, a key that
 * does not belong to the certificate, a non-RSA key, and the validity dates. The SHA-256 thumbprint (the `x5t#S256`
 * header of the client assertion) is computed from the certificate, never typed. No n8n types; no value of a field
 * ever appears in a message (the thumbprint and the validity dates are public facts of the certificate).
 */
import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';

export class CertificateInputError extends Error {
	constructor(
		message: string,
		readonly hint: string,
		/** which credential field is wrong */
		readonly field: 'certificate' | 'privateKey' | 'privateKeyPassphrase',
	) {
		super(message);
		this.name = 'CertificateInputError';
	}
}

export interface ParsedCertificate {
	/** the certificate chain as PEM, leaf (the one matching the key) first: msal sends it as `x5c` */
	certificatePem: string;
	/** the private key, unencrypted PKCS#8 PEM (what msal signs the client assertion with) */
	privateKeyPem: string;
	/** hex SHA-256 of the leaf's DER (shown by Entra as "Thumbprint" for SHA-256) */
	thumbprintSha256: string;
	/** hex SHA-1 of the leaf's DER (the thumbprint the Entra portal lists) */
	thumbprintSha1: string;
	notBefore: Date;
	notAfter: Date;
	subject: string;
	/** SHA-256 over the key material: part of the token broker's key instead of a secret */
	keyHash: string;
}

const BLOCK_RE = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

interface PemBlock {
	label: string;
	/** header lines such as `Proc-Type: 4,ENCRYPTED` (legacy OpenSSL encryption) */
	headers: string[];
	base64: string;
}

/** PEM blocks of a text, tolerating flattened line breaks (spaces), literal `\n` and CRLF. */
export function pemBlocks(text: string): PemBlock[] {
	const source = text.replace(/\\r\\n|\\n/g, '\n').replace(/\r\n?/g, '\n');
	const out: PemBlock[] = [];
	for (const m of source.matchAll(BLOCK_RE)) {
		const label = m[1].trim();
		let body = m[2];
		const headers: string[] = [];
		// Legacy encrypted keys carry "Proc-Type: 4,ENCRYPTED" and "DEK-Info: AES-256-CBC,<hex>" before the base64.
		for (const h of ['Proc-Type', 'DEK-Info']) {
			const hm = new RegExp(`${h}:\\s*([A-Za-z0-9,\\-]+)`).exec(body);
			if (hm) {
				headers.push(`${h}: ${hm[1]}`);
				body = body.replace(hm[0], ' ');
			}
		}
		out.push({ label, headers, base64: body.replace(/[^A-Za-z0-9+/=]/g, '') });
	}
	return out;
}

function toPem(block: PemBlock): string {
	const lines = block.base64.match(/.{1,64}/g) ?? [];
	const headers = block.headers.length ? `${block.headers.join('\n')}\n\n` : '';
	return `-----BEGIN ${block.label}-----\n${headers}${lines.join('\n')}\n-----END ${block.label}-----\n`;
}

const isKeyLabel = (label: string) => /PRIVATE KEY$/.test(label);
const isCertLabel = (label: string) => label === 'CERTIFICATE' || label === 'X509 CERTIFICATE' || label === 'TRUSTED CERTIFICATE';

function certificateBlocks(text: string): { certs: PemBlock[]; keys: PemBlock[] } {
	let blocks = pemBlocks(text);
	if (blocks.length === 0) {
		// A bare base64 DER (the .cer file the Entra portal accepts, opened as text) without the PEM armour.
		const bare = text.replace(/\s+/g, '');
		if (/^MI[A-Za-z0-9+/]{100,}={0,2}$/.test(bare)) blocks = [{ label: 'CERTIFICATE', headers: [], base64: bare }];
	}
	return { certs: blocks.filter((b) => isCertLabel(b.label)), keys: blocks.filter((b) => isKeyLabel(b.label)) };
}

const CERT_HINT =
	'Paste the PEM certificate (-----BEGIN CERTIFICATE----- … -----END CERTIFICATE-----) whose public part is uploaded to the app registration under Certificates & secrets → Certificates.';
const KEY_HINT =
	'Paste the PEM private key that belongs to the certificate (-----BEGIN PRIVATE KEY-----, -----BEGIN RSA PRIVATE KEY----- or -----BEGIN ENCRYPTED PRIVATE KEY-----). From a .pfx: openssl pkcs12 -in cert.pfx -nocerts -out key.pem.';

function loadKey(block: PemBlock, passphrase: string | undefined): KeyObject {
	const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || block.headers.some((h) => /ENCRYPTED/.test(h));
	if (encrypted && !passphrase) {
		throw new CertificateInputError(
			'The private key is encrypted and Private Key Passphrase is empty',
			'Enter the passphrase the key was exported with, or paste an unencrypted key (openssl pkey -in key.pem -out key-plain.pem).',
			'privateKeyPassphrase',
		);
	}
	try {
		return createPrivateKey({ key: toPem(block), format: 'pem', ...(encrypted ? { passphrase } : {}) });
	} catch (error) {
		const e = error as { code?: string; message?: string };
		const text = `${e.code ?? ''} ${e.message ?? ''}`;
		if (encrypted && /bad decrypt|BAD_DECRYPT|decrypt|passphrase|password/i.test(text)) {
			throw new CertificateInputError(
				'Private Key Passphrase does not decrypt the private key',
				'Enter the passphrase the key was exported with (it is case-sensitive).',
				'privateKeyPassphrase',
			);
		}
		if (/MISSING_PASSPHRASE|passphrase required/i.test(text)) {
			throw new CertificateInputError(
				'The private key is encrypted and Private Key Passphrase is empty',
				'Enter the passphrase the key was exported with, or paste an unencrypted key.',
				'privateKeyPassphrase',
			);
		}
		throw new CertificateInputError('Private Key could not be read as a PEM private key', KEY_HINT, 'privateKey');
	}
}

const cache = new Map<string, ParsedCertificate>();
const MAX_CACHE = 100;

export interface CertificateFields {
	certificate: string;
	privateKey: string;
	passphrase?: string;
}

/** Parse and check the certificate and key (everything but the validity dates: see checkValidity). */
export function parseCertificate(fields: CertificateFields): ParsedCertificate {
	const cacheKey = createHash('sha256').update(`${fields.certificate}\u0000${fields.privateKey}\u0000${fields.passphrase ?? ''}`).digest('hex');
	const cached = cache.get(cacheKey);
	if (cached) return cached;

	if (!fields.certificate.trim()) throw new CertificateInputError('Certificate is empty', CERT_HINT, 'certificate');
	const fromCertField = certificateBlocks(fields.certificate);
	const fromKeyField = certificateBlocks(fields.privateKey);
	if (fromCertField.certs.length === 0) {
		if (fromCertField.keys.length > 0) {
			throw new CertificateInputError(
				'The Certificate field holds a private key, not a certificate',
				'Put the private key into Private Key and the certificate (-----BEGIN CERTIFICATE-----) into Certificate.',
				'certificate',
			);
		}
		throw new CertificateInputError('Certificate is not a PEM certificate', CERT_HINT, 'certificate');
	}
	// A combined PEM (certificate and key in one file) pasted into Certificate is accepted when Private Key is empty.
	let keyBlocks = fromKeyField.keys;
	if (!fields.privateKey.trim()) {
		if (fromCertField.keys.length === 0) throw new CertificateInputError('Private Key is empty', KEY_HINT, 'privateKey');
		keyBlocks = fromCertField.keys;
	} else if (keyBlocks.length === 0) {
		if (fromKeyField.certs.length > 0) {
			throw new CertificateInputError(
				'The Private Key field holds a certificate, not a private key',
				'Put the certificate into Certificate and its private key (-----BEGIN PRIVATE KEY-----) into Private Key.',
				'privateKey',
			);
		}
		throw new CertificateInputError('Private Key is not a PEM private key', KEY_HINT, 'privateKey');
	}
	if (keyBlocks.length > 1) {
		throw new CertificateInputError('Private Key holds more than one key', 'Paste only the key that belongs to the certificate.', 'privateKey');
	}
	const key = loadKey(keyBlocks[0], fields.passphrase);
	if (key.asymmetricKeyType !== 'rsa') {
		throw new CertificateInputError(
			`The private key is an ${String(key.asymmetricKeyType).toUpperCase()} key; Microsoft Entra certificate credentials need an RSA key`,
			'Create an RSA certificate (2048 bits or more) and upload it to the app registration.',
			'privateKey',
		);
	}

	const certs: X509Certificate[] = [];
	for (const block of fromCertField.certs) {
		try {
			certs.push(new X509Certificate(toPem({ ...block, label: 'CERTIFICATE' })));
		} catch {
			throw new CertificateInputError('Certificate could not be read as an X.509 certificate', CERT_HINT, 'certificate');
		}
	}
	const leafIndex = certs.findIndex((c) => c.checkPrivateKey(key));
	if (leafIndex < 0) {
		const thumb = createHash('sha256').update(certs[0].raw).digest('hex').toUpperCase();
		throw new CertificateInputError(
			`The private key does not belong to the certificate (SHA-256 thumbprint ${thumb})`,
			'Use the key that was created together with this certificate (both come from the same .pfx or key pair), or paste the certificate that matches the key.',
			'privateKey',
		);
	}
	const ordered = [certs[leafIndex], ...certs.filter((_, k) => k !== leafIndex)];
	const leaf = ordered[0];
	const privateKeyPem = key.export({ type: 'pkcs8', format: 'pem' }).toString();
	const parsed: ParsedCertificate = {
		certificatePem: ordered.map((c) => c.toString()).join(''),
		privateKeyPem,
		thumbprintSha256: createHash('sha256').update(leaf.raw).digest('hex').toUpperCase(),
		thumbprintSha1: createHash('sha1').update(leaf.raw).digest('hex').toUpperCase(),
		notBefore: new Date(leaf.validFrom),
		notAfter: new Date(leaf.validTo),
		subject: leaf.subject.replace(/\n/g, ', '),
		keyHash: createHash('sha256').update(`${leaf.fingerprint256}|${privateKeyPem}`).digest('hex'),
	};
	cache.set(cacheKey, parsed);
	while (cache.size > MAX_CACHE) {
		const oldest = cache.keys().next().value;
		if (oldest === undefined) break;
		cache.delete(oldest);
	}
	return parsed;
}

const day = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** Throws when the certificate is expired or not valid yet (Entra refuses both), with its dates. */
export function checkValidity(cert: ParsedCertificate, now: Date = new Date()): void {
	const hint =
		'Create a new certificate, upload its public part to the app registration under Certificates & secrets → Certificates, and paste it and its key into this credential (certificates can be valid for several years, so there is no yearly rotation).';
	if (now.getTime() > cert.notAfter.getTime()) {
		throw new CertificateInputError(
			`The certificate (SHA-256 thumbprint ${cert.thumbprintSha256}) expired on ${day(cert.notAfter)} (valid from ${day(cert.notBefore)} to ${day(cert.notAfter)})`,
			hint,
			'certificate',
		);
	}
	if (now.getTime() < cert.notBefore.getTime()) {
		throw new CertificateInputError(
			`The certificate (SHA-256 thumbprint ${cert.thumbprintSha256}) is not valid yet: valid from ${day(cert.notBefore)} to ${day(cert.notAfter)}`,
			'Wait until the start date, or check the clock of the n8n server; or use a certificate that is already valid.',
			'certificate',
		);
	}
}
