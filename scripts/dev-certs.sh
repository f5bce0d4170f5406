#!/usr/bin/env bash
# DEV CONVENIENCE, NOT PART OF KAFKA: makes a throw-away certificate
# authority, a server certificate and a client certificate for local TLS
# tests, with the openssl CLI. Never use these for anything real.
#
#   scripts/dev-certs.sh DIR [CLIENT_CN]
#
# Writes into DIR (created; existing files are replaced):
#   ca.pem              the CA certificate (clients' ssl.ca.location; the broker's
#                       ssl.truststore.location for client certificates)
#   ca.key              the CA key
#   server.pem          server key + certificate + CA, PEM: the broker's
#                       ssl.keystore.location (ssl.keystore.type=PEM)
#   server.key, server.crt   the same, separately (ssl.keystore.key /
#                       ssl.keystore.certificate.chain take their contents)
#   client.key, client.crt   a client certificate, subject CN=CLIENT_CN,OU=dev,O=skiff
#                       (default CLIENT_CN: client)
# The server certificate is valid for localhost, 127.0.0.1 and ::1, for 30 days.
# A one-liner for a broker:
#   scripts/dev-certs.sh /tmp/certs && build/skiff --listeners SSL://localhost:9093 \
#     --ssl.keystore.type PEM --ssl.keystore.location /tmp/certs/server.pem
set -euo pipefail
dir=${1:?usage: dev-certs.sh DIR [CLIENT_CN]}
cn=${2:-client}
mkdir -p "$dir"
cd "$dir"
umask 077
q() { openssl "$@" 2>/dev/null; }
q req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/O=skiff/CN=skiff dev CA" \
    -keyout ca.key -out ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
q req -newkey rsa:2048 -nodes -subj "/O=skiff/OU=dev/CN=localhost" -keyout server.key -out server.csr
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' > server.ext
q x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile server.ext -out server.crt
q req -newkey rsa:2048 -nodes -subj "/O=skiff/OU=dev/CN=$cn" -keyout client.key -out client.csr
printf 'extendedKeyUsage=clientAuth\n' > client.ext
q x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile client.ext -out client.crt
cat server.key server.crt ca.pem > server.pem
rm -f server.csr client.csr server.ext client.ext ca.srl
chmod 644 ca.pem server.crt client.crt
echo "dev certificates in $dir: ca.pem server.pem client.crt client.key (CN=$cn)"
