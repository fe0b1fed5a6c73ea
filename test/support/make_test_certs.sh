#!/usr/bin/env bash
# make_test_certs.sh DIR: a throwaway PKI for TLS tests, made at test time (no key is ever
# kept in the repository). Writes into DIR:
#   ca.pem                      a test CA
#   server.pem, server.key      a server certificate for localhost, 127.0.0.1 and ::1
#   client.pem, client.key      a client certificate signed by the same CA
#   other-ca.pem                an unrelated CA
#   rogue.pem, rogue.key        a client certificate signed by the unrelated CA
# Certificates are valid for two days; keys are P-256. Exit status 77 when the openssl
# command is missing, 1 when it fails (its output on stderr).
set -euo pipefail

dir=${1:?usage: make_test_certs.sh DIR}
command -v openssl >/dev/null || {
  echo "openssl not found" >&2
  exit 77
}
mkdir -p "$dir"
cd "$dir"

cat >openssl.cnf <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = ccrex test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[client_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
CNF

quiet() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
}

# new_ca NAME SUBJECT
new_ca() {
  quiet openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.pem" -days 2 -config openssl.cnf -extensions ca_ext -subj "$2"
}

# new_cert NAME SUBJECT CA EXTENSIONS SERIAL
new_cert() {
  quiet openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$1.key" -out "$1.csr" -config openssl.cnf -subj "$2"
  quiet openssl x509 -req -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" -set_serial "$5" \
    -out "$1.pem" -days 2 -extfile openssl.cnf -extensions "$4"
  rm -f "$1.csr"
}

new_ca ca "/CN=ccrex test CA"
new_ca other-ca "/CN=ccrex unrelated CA"
new_cert server "/CN=localhost" ca server_ext 1001
new_cert client "/CN=ccrex test client" ca client_ext 1002
new_cert rogue "/CN=ccrex rogue client" other-ca client_ext 1003
chmod 600 ./*.key
