#!/usr/bin/env bash
# Creates a throw-away local CA and a server certificate for the Defender + Entra emulator (loopback only), and
# client certificates for the certificate sign-in tests (test/.certs/client).
# Test processes trust the CA through NODE_EXTRA_CA_CERTS; TLS verification is never switched off.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${CERT_DIR:-test/.certs}"
mkdir -p "$DIR"
make_client_certs() {
  # Certificate sign-in (app credentials, not TLS): RSA key pairs with self-signed certificates the emulator can register
  # on an app registration, plus the broken variants the credential must explain before any request.
  local C="$DIR/client"
  if [ -s "$C/.complete" ]; then return 0; fi
  mkdir -p "$C"
  local T; T="$(mktemp -d)"
  printf '%s' 'n8n-test-passphrase-1' > "$C/passphrase.txt"
  for name in app other; do
    openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=n8n-defender-$name-test" \
      -keyout "$T/$name-key.pem" -out "$C/$name.pem" 2>/dev/null
    openssl pkey -in "$T/$name-key.pem" -out "$C/$name-key.pem" 2>/dev/null             # PKCS#8
  done
  openssl rsa -in "$C/app-key.pem" -traditional -out "$C/app-key-pkcs1.pem" 2>/dev/null     # BEGIN RSA PRIVATE KEY
  openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$C/app-key.pem" -passout "file:$C/passphrase.txt" -out "$C/app-key-encrypted.pem" 2>/dev/null
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=n8n-defender-ec-test" \
    -keyout "$C/ec-key.pem" -out "$C/ec.pem" 2>/dev/null
  # Expired and not-yet-valid certificates (openssl ca is the one that takes explicit dates).
  mkdir -p "$T/db" && : > "$T/db/index.txt" && echo 01 > "$T/db/serial"
  cat > "$T/ca.cnf" <<'CNF'
[ ca ]
default_ca = c
[ c ]
database = $ENV::CADB/index.txt
serial = $ENV::CADB/serial
new_certs_dir = $ENV::CADB
default_md = sha256
policy = p
unique_subject = no
[ p ]
commonName = supplied
CNF
  for spec in "expired 20200101000000Z 20210101000000Z" "future 20990101000000Z 21000101000000Z"; do
    set -- $spec
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$C/$1-key.pem" 2>/dev/null
    openssl req -new -key "$C/$1-key.pem" -subj "/CN=n8n-defender-$1-test" -out "$T/$1.csr" 2>/dev/null
    CADB="$T/db" openssl ca -batch -config "$T/ca.cnf" -selfsign -keyfile "$C/$1-key.pem" -in "$T/$1.csr" \
      -startdate "$2" -enddate "$3" -notext -out "$C/$1.pem" >/dev/null 2>&1
  done
  rm -rf "$T"
  echo ok > "$C/.complete"
  echo "[certs] created $C (client certificates for certificate sign-in tests)"
}

if [ -s "$DIR/ca.pem" ] && [ -s "$DIR/server.pem" ] && [ -s "$DIR/server-key.pem" ]; then make_client_certs; exit 0; fi
cat > "$DIR/server.ext" <<'EXT'
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=@alt
[alt]
IP.1=127.0.0.1
IP.2=::1
DNS.1=localhost
DNS.2=login.microsoftonline.com
DNS.3=login.microsoftonline.us
DNS.4=api.security.microsoft.com
DNS.5=*.api.security.microsoft.com
DNS.6=api.securitycenter.microsoft.com
DNS.7=api.securitycenter.windows.com
DNS.8=api-gcc.securitycenter.microsoft.us
DNS.9=api-gov.securitycenter.microsoft.us
DNS.10=*.emulator.localhost
EXT
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=n8n-nodes-defender-endpoint test CA" \
  -keyout "$DIR/ca-key.pem" -out "$DIR/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=defender-emulator" -keyout "$DIR/server-key.pem" -out "$DIR/server.csr" 2>/dev/null
openssl x509 -req -in "$DIR/server.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -CAcreateserial -days 825 \
  -extfile "$DIR/server.ext" -out "$DIR/server.pem" 2>/dev/null
rm -f "$DIR/server.csr" "$DIR/ca.srl"
echo "[certs] created $DIR (local CA + emulator certificate)"
make_client_certs
