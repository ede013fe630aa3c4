#!/usr/bin/python3
"""A SCRAM-SHA-512 client (RFC 5802, RFC 7677), written from the RFCs with hashlib and hmac and
nothing of pam_dir's, that logs in through a real PAM stack: it runs `pam_run --interactive`
and answers its prompts.

    scram_client.py [options] KEY -- PAM_RUN_COMMAND...

KEY is "<id>-<secret>" as dirctl apikey add prints it.  Prints pam_run's lines (auth: ...,
message: ...) and "server signature: ok" or "server signature: WRONG" when server-final came.
Options that make a misbehaving client:
  --first TEXT         send TEXT as the first message instead of client-first
  --final TEXT         send TEXT as client-final
  --wrong-proof        flip a bit of the proof
  --save-final FILE    keep the client-final sent (for --final "$(cat FILE)": a replay)
  --cbind-flag F       n (default), y, or p (tls-server-end-point)
  --cbind-data B64     the channel binding data the client puts in c= with p
  --user NAME          the SCRAM user name (default: the key id)
"""
import base64
import hashlib
import hmac
import os
import subprocess
import sys


def H(data):
    return hashlib.sha512(data).digest()


def HMAC(key, data):
    return hmac.new(key, data, hashlib.sha512).digest()


def saslname(name):
    return name.replace("=", "=3D").replace(",", "=2C")


def main():
    args = sys.argv[1:]
    sep = args.index("--")
    opts, cmd = args[:sep], args[sep + 1:]
    o = {"--cbind-flag": "n"}
    flags = set()
    i = 0
    while i < len(opts) - 1:
        if opts[i] == "--wrong-proof":
            flags.add(opts[i])
            i += 1
        else:
            o[opts[i]] = opts[i + 1]
            i += 2
    key = opts[-1]
    key_id, secret = key.split("-", 1)
    user = o.get("--user", key_id)

    if o["--cbind-flag"] == "p":
        gs2 = "p=tls-server-end-point,,"
        cbind = base64.b64decode(o.get("--cbind-data", ""))
    else:
        gs2 = o["--cbind-flag"] + ",,"
        cbind = b""
    cnonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=%s,r=%s" % (saslname(user), cnonce)
    first = o.get("--first", gs2 + first_bare)

    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    prompts = 0
    salted = auth_message = None
    for line in p.stdout:
        line = line.rstrip("\n")
        if not line.startswith("prompt: "):
            print(line, flush=True)
            if line.startswith("message: v=") and auth_message is not None:
                want = base64.b64encode(HMAC(HMAC(salted, b"Server Key"), auth_message)).decode()
                ok = hmac.compare_digest(line[len("message: v="):], want)
                print("server signature: " + ("ok" if ok else "WRONG"), flush=True)
            continue
        prompts += 1
        if prompts == 1:
            answer = first
        elif prompts == 2 and "--final" in o:
            answer = o["--final"]
        elif prompts == 2:
            server_first = line[len("prompt: "):]
            fields = dict(f.split("=", 1) for f in server_first.split(","))
            nonce, salt, iterations = fields["r"], base64.b64decode(fields["s"]), int(fields["i"])
            if not nonce.startswith(cnonce):
                print("client: the server's nonce does not extend ours", flush=True)
            salted = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations)
            client_key = HMAC(salted, b"Client Key")
            without_proof = "c=%s,r=%s" % (base64.b64encode(gs2.encode() + cbind).decode(), nonce)
            auth_message = ",".join([first_bare, server_first, without_proof]).encode()
            proof = bytearray(a ^ b for a, b in zip(client_key, HMAC(H(client_key), auth_message)))
            if "--wrong-proof" in flags:
                proof[0] ^= 1
            answer = without_proof + ",p=" + base64.b64encode(bytes(proof)).decode()
            if "--save-final" in o:
                with open(o["--save-final"], "w") as f:
                    f.write(answer)
        else:
            answer = ""
        p.stdin.write(answer + "\n")
        p.stdin.flush()
    p.wait()
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
