# Certificates for the TLS tests, made with openssl in a directory of the test's own.
#   tls_ca DIR NAME                 -> DIR/NAME.crt, DIR/NAME.key: a CA
#   tls_cert DIR CA NAME SAN        -> DIR/NAME.crt, DIR/NAME.key signed by CA; SAN like
#                                      "IP:127.0.0.1,DNS:localhost"
tls_ca() {
	local dir=$1 name=$2
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$name" \
		-keyout "$dir/$name.key" -out "$dir/$name.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		>>"$dir/openssl.log" 2>&1
}

tls_cert() {
	local dir=$1 ca=$2 name=$3 san=$4
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$name" -keyout "$dir/$name.key" \
		-out "$dir/$name.csr" >>"$dir/openssl.log" 2>&1 &&
		printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' \
			"$san" >"$dir/$name.ext" &&
		openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.crt" -CAkey "$dir/$ca.key" \
			-CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt" \
			>>"$dir/openssl.log" 2>&1
	chmod 600 "$dir/$name.key"
}
