/** Certificate credentials, checked before any request (core/certificate.ts through core/credentials.ts). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { CertificateInputError, checkValidity, parseCertificate, pemBlocks } from '../../nodes/MicrosoftDefenderForEndpoint/core/certificate';
import { CredentialInputError, readCredential } from '../../nodes/MicrosoftDefenderForEndpoint/core/credentials';
import { certs } from '../credential/certs';

const base = {
	cloud: 'commercial',
	tenantId: '11111111-2222-3333-4444-555555555555',
	clientId: '5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f',
	authentication: 'certificate',
};

function fails(fn: () => unknown): CertificateInputError | CredentialInputError {
	try {
		fn();
	} catch (error) {
		if (error instanceof CertificateInputError || error instanceof CredentialInputError) return error;
		throw error;
	}
	throw new Error('expected a failure');
}

describe('parseCertificate', () => {
	it('computes the SHA-256 thumbprint from the certificate (as openssl does) and exports an unencrypted PKCS#8 key', () => {
		const parsed = parseCertificate(certs.app);
		const pemPath = path.resolve(__dirname, '..', '.certs', 'client', 'app.pem');
		const openssl = execFileSync('openssl', ['x509', '-in', pemPath, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
		expect(parsed.thumbprintSha256).toBe(openssl.split('=')[1].trim().replace(/:/g, ''));
		expect(parsed.thumbprintSha256).toMatch(/^[0-9A-F]{64}$/);
		expect(parsed.thumbprintSha1).toMatch(/^[0-9A-F]{40}$/);
		expect(parsed.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
		expect(parsed.subject).toContain('CN=n8n-defender-app-test');
		expect(parsed.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);
	});

	it('repairs line breaks flattened by a single-line field, literal \\n and CRLF', () => {
		const flat = (s: string) => s.replace(/\n/g, ' ');
		const literal = (s: string) => s.replace(/\n/g, '\\n');
		const crlf = (s: string) => s.replace(/\n/g, '\r\n');
		const want = parseCertificate(certs.app).thumbprintSha256;
		for (const f of [flat, literal, crlf]) {
			expect(parseCertificate({ certificate: f(certs.app.certificate), privateKey: f(certs.app.privateKey) }).thumbprintSha256).toBe(want);
		}
		expect(pemBlocks(flat(certs.app.certificate))).toHaveLength(1);
	});

	it('accepts a PKCS#1 key, an encrypted key with its passphrase, and a combined PEM in the Certificate field', () => {
		const want = parseCertificate(certs.app).thumbprintSha256;
		expect(parseCertificate({ certificate: certs.app.certificate, privateKey: certs.pkcs1Key }).thumbprintSha256).toBe(want);
		expect(parseCertificate({ certificate: certs.app.certificate, privateKey: certs.encryptedKey, passphrase: certs.passphrase }).thumbprintSha256).toBe(want);
		expect(parseCertificate({ certificate: `${certs.app.certificate}${certs.app.privateKey}`, privateKey: '' }).thumbprintSha256).toBe(want);
		// the leaf is the certificate that matches the key, wherever it is in the chain
		const chain = parseCertificate({ certificate: `${certs.other.certificate}${certs.app.certificate}`, privateKey: certs.app.privateKey });
		expect(chain.thumbprintSha256).toBe(want);
		expect(pemBlocks(chain.certificatePem)).toHaveLength(2);
	});

	it.each([
		['an encrypted key without passphrase', () => ({ certificate: certs.app.certificate, privateKey: certs.encryptedKey }), 'privateKeyPassphrase', /encrypted and Private Key Passphrase is empty/],
		['a wrong passphrase', () => ({ certificate: certs.app.certificate, privateKey: certs.encryptedKey, passphrase: 'wrong-passphrase' }), 'privateKeyPassphrase', /does not decrypt/],
		['a key of another certificate', () => ({ certificate: certs.app.certificate, privateKey: certs.other.privateKey }), 'privateKey', /does not belong to the certificate \(SHA-256 thumbprint [0-9A-F]{64}\)/],
		['an EC key', () => certs.ec, 'privateKey', /EC key; Microsoft Entra certificate credentials need an RSA key/],
		['swapped fields', () => ({ certificate: certs.app.privateKey, privateKey: certs.app.certificate }), 'certificate', /Certificate field holds a private key/],
		['a certificate in the key field', () => ({ certificate: certs.app.certificate, privateKey: certs.other.certificate }), 'privateKey', /Private Key field holds a certificate/],
		['an empty certificate', () => ({ certificate: ' ', privateKey: certs.app.privateKey }), 'certificate', /Certificate is empty/],
		['an empty key', () => ({ certificate: certs.app.certificate, privateKey: '' }), 'privateKey', /Private Key is empty/],
		['garbage', () => ({ certificate: 'not a certificate', privateKey: certs.app.privateKey }), 'certificate', /not a PEM certificate/],
		['a broken key', () => ({ certificate: certs.app.certificate, privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }), 'privateKey', /could not be read/],
	])('explains %s, naming the field', (_name, input, field, message) => {
		const error = fails(() => parseCertificate(input())) as CertificateInputError;
		expect(error.field).toBe(field);
		expect(error.message).toMatch(message);
		expect(error.hint.length).toBeGreaterThan(20);
	});

	it('says when the certificate expired or is not valid yet, with the dates', () => {
		expect(fails(() => checkValidity(parseCertificate(certs.expired))).message).toMatch(/expired on 2021-01-01T00:00:00Z \(valid from 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z\)/);
		expect(fails(() => checkValidity(parseCertificate(certs.future))).message).toMatch(/not valid yet: valid from 2099-01-01T00:00:00Z to 2100-01-01T00:00:00Z/);
		const app = parseCertificate(certs.app);
		expect(() => checkValidity(app)).not.toThrow();
		expect(fails(() => checkValidity(app, new Date(app.notAfter.getTime() + 1000))).message).toMatch(/expired on/);
	});
});

describe('readCredential with Authentication = Certificate', () => {
	it('reads a certificate credential (the secret is empty) and a saved credential without Authentication as Client Secret', () => {
		const c = readCredential({ ...base, ...certs.app });
		expect(c.auth.kind).toBe('certificate');
		expect(c.clientSecret).toBe('');
		const old = readCredential({ cloud: 'commercial', tenantId: base.tenantId, clientId: base.clientId, clientSecret: 'Abc8Q~secret-value' });
		expect(old.auth).toEqual({ kind: 'secret', secret: 'Abc8Q~secret-value' });
	});

	it('reports certificate mistakes as credential input errors and never repeats the key or passphrase', () => {
		const e = fails(() => readCredential({ ...base, certificate: certs.app.certificate, privateKey: certs.encryptedKey, privateKeyPassphrase: 'Wr0ng-passphrase~x' }));
		expect(e).toBeInstanceOf(CredentialInputError);
		expect(e.message).toMatch(/Passphrase does not decrypt/);
		expect(`${e.message} ${e.hint}`).not.toContain('Wr0ng-passphrase~x');
		const expired = fails(() => readCredential({ ...base, ...certs.expired }));
		expect(expired.message).toMatch(/expired on 2021-01-01/);
		expect(fails(() => readCredential({ ...base, certificate: certs.app.certificate, privateKey: certs.other.privateKey })).message).toMatch(/does not belong/);
	});

	it('rejects a PEM pasted as the client secret', () => {
		expect(fails(() => readCredential({ ...base, authentication: 'clientSecret', clientSecret: certs.app.privateKey })).message).toMatch(/Client Secret holds a PEM block/);
	});
});
