# ccrex against a ccrex-server deployed as the README's "Security" section describes: TLS
# with a private CA, client certificates and a bearer token. With every credential compiles
# execute remotely and hit; without one of them they compile locally, counted, with the
# reason in the agent log. A token is never sent in plaintext to an engine elsewhere, and
# --show-config never prints secrets. Certificates are made at test time with openssl.

# shellcheck source=../lib/compile_helpers.bash
source "$E2E_DIR/lib/compile_helpers.bash"

SUITE_secure_PROBE() {
  command -v gcc >/dev/null || echo "gcc not found"
  command -v openssl >/dev/null || echo "openssl not found"
  command -v sha256sum >/dev/null || echo "sha256sum not found"
  [[ -x $CCREX_SERVER_BIN ]] || echo "CCREX_SERVER_BIN not set"
}

SUITE_secure_SETUP() {
  isolate_test
  export CCREX_RETRIES=1
  write_remote_sources
  bash "$E2E_DIR/../support/make_test_certs.sh" "$TEST_DIR/pki" \
    || test_failed "cannot make the test certificates"
  PKI=$TEST_DIR/pki
  TOKEN=e2e-$(openssl rand -hex 16)
  printf 'sha256:%s instance=* roles=read,write-cas,execute name=e2e\n' \
    "$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)" >"$TEST_DIR/tokens"
}

# start_secure_server: ccrex-server with TLS, client certificates and tokens on a free
# loopback port; SERVER_URL becomes its grpcs:// address.
start_secure_server() {
  start_server 127.0.0.1:0 "$TEST_DIR/server-store" \
    --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
    --tls-client-ca "$PKI/ca.pem" --auth-tokens "$TEST_DIR/tokens"
  SERVER_URL=grpcs://${SERVER_URL#grpc://}
}

# use_all_credentials: the agent settings that reach the secure server.
use_all_credentials() {
  export CCREX_REMOTE=$SERVER_URL
  export CCREX_TLS_CA_FILE=$PKI/ca.pem
  export CCREX_TLS_CLIENT_CERT=$PKI/client.pem CCREX_TLS_CLIENT_KEY=$PKI/client.key
  export CCREX_ACCESS_TOKEN=$TOKEN
}

# expect_local_fallback WHAT: one compile of main.c runs locally (the plain compiler's
# object), is counted as a fallback, and the agent log names WHAT.
expect_local_fallback() {
  use_cache_dir "fallback-$RANDOM"
  rm -f main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stat miss_executed 0
  expect_stat hit_remote 0
  [[ $(fallback_count) -ge 1 ]] || test_failed "no fallback counted; counters: $(all_stats)"
  expect_contains "$CCREX_AGENT_DIR/agent.log" "$1"
}

SUITE_secure() {
  TEST "TLS, client certificate and token: executed remotely, then a remote hit"
  start_secure_server
  use_all_credentials
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  use_cache_dir first
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats miss_executed=1
  use_cache_dir second
  rm main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats hit_remote=1

  TEST "missing or wrong token, missing certificate, plaintext: local compiles, counted"
  start_secure_server
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  use_all_credentials
  unset CCREX_ACCESS_TOKEN
  expect_local_fallback "requires a bearer token"
  export CCREX_ACCESS_TOKEN=not-$TOKEN
  expect_local_fallback "not valid"
  use_all_credentials
  unset CCREX_TLS_CLIENT_CERT CCREX_TLS_CLIENT_KEY
  expect_local_fallback "fell back"
  use_all_credentials
  export CCREX_TLS_CA_FILE=$PKI/other-ca.pem
  expect_local_fallback "fell back"
  use_all_credentials
  unset CCREX_TLS_CA_FILE CCREX_TLS_CLIENT_CERT CCREX_TLS_CLIENT_KEY
  export CCREX_REMOTE=grpc://${SERVER_URL#grpcs://}
  expect_local_fallback "fell back"
  # Nothing of these attempts reached the server's cache.
  use_all_credentials
  use_cache_dir after
  rm -f main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_stats miss_executed=1

  TEST "a token is never sent in plaintext to another machine"
  plain gcc -O1 -Iinclude -c main.c -o plain.o
  # 192.0.2.0/24 is reserved for documentation: nothing answers there, and nothing is tried.
  export CCREX_REMOTE=grpc://192.0.2.1:8980 CCREX_ACCESS_TOKEN=$TOKEN
  use_cache_dir plaintext-token
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_same_file main.o plain.o
  expect_stats fallback_backend=1
  expect_contains "$CCREX_AGENT_DIR/agent.log" "not sending the access token or headers"
  unset CCREX_ACCESS_TOKEN
  export CCREX_HEADERS=x-api-key=$TOKEN
  use_cache_dir plaintext-header
  rm main.o
  expect_exit 0 "$CCREX" gcc -O1 -Iinclude -c main.c -o main.o
  expect_stats fallback_backend=1

  TEST "--show-config masks the token and header values"
  export CCREX_ACCESS_TOKEN=$TOKEN CCREX_HEADERS=x-api-key=$TOKEN,x-team=blue
  expect_exit 0 "$CCREX" --show-config
  expect_contains stdout.txt "headers = x-api-key=***,x-team=***"
  expect_contains stdout.txt "access_token = ***"
  if grep -qF -- "$TOKEN" stdout.txt; then
    test_failed "--show-config prints the token: $(cat stdout.txt)"
  fi
}
