"""Held-out set for scripts/heldout: generate, scan, score. See that script."""

import argparse
import base64
import collections
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import (ec, ed448, ed25519, rsa,
                                                       x448, x25519)

R = random.Random()
WORK = ""


# ---- encodings, written here from the specifications ----

def b64(b):
    return base64.b64encode(b).decode()


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58(b):
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out


def base58check(payload):
    s = hashlib.sha256(hashlib.sha256(payload).digest()).digest()
    return base58(payload + s[:4])


BECH = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def bech32(hrp, data):
    acc, bits, five = 0, 0, []
    for b in data:
        acc = acc << 8 | b
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append(acc >> bits & 31)
    if bits:
        five.append(acc << (5 - bits) & 31)
    pre = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    pm = _polymod(pre + five + [0] * 6) ^ 1
    chk = [pm >> 5 * (5 - i) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH[d] for d in five + chk)


def ssh_fp(public):
    line = public.public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def thumb(members):
    canon = json.dumps(members, sort_keys=True, separators=(",", ":"))
    return b64u(hashlib.sha256(canon.encode()).digest())


def flip(s, lo=None):
    """One character changed inside s (a broken checksum)."""
    lo = len(s) // 3 if lo is None else lo
    i = R.randrange(lo, len(s) - 2)
    alpha = [c for c in "abcdefghjkmnpqrstuvwxyz23456789" if c != s[i].lower()]
    c = R.choice(alpha)
    return s[:i] + (c.upper() if s[i].isupper() else c) + s[i + 1:]


def sh(cmd, data=None, cwd=None):
    return subprocess.run(cmd, shell=True, input=data, cwd=cwd or WORK,
                          capture_output=True, check=True).stdout


def word():
    return R.choice(["prod", "staging", "dev", "ci", "release", "backup", "main",
                     "api", "edge", "vpn", "signer", "ops", "test", "infra"])


# ---- surroundings for a one-line secret ----

def env_name(*names):
    return R.choice(names) + R.choice(["", "_" + word().upper()])


def one_line(secret, names, ext_hint="env"):
    """A single-line secret in a random file: name, content."""
    n = env_name(*names)
    forms = [
        (".env", f"# {word()} settings\nAPP_ENV={word()}\n{n}={secret}\nLOG_LEVEL=info\n"),
        (f"{word()}.env", f"{n}=\"{secret}\"\n"),
        (f"{word()}.sh", f"#!/bin/sh\nexport {n}='{secret}'\nexec ./run\n"),
        (f"config/{word()}.yaml", f"{word()}:\n  {n.lower()}: {secret}\n  enabled: true\n"),
        (f"values-{word()}.yml", f"secrets:\n  {n.lower()}: \"{secret}\"\n"),
        (f"{word()}.json", json.dumps({"name": word(), n.lower(): secret}, indent=R.choice([None, 2, 4])) + "\n"),
        (f"{word()}.toml", f"[{word()}]\n{n.lower()} = \"{secret}\"\n"),
        ("docker-compose.yml", f"services:\n  app:\n    image: {word()}:latest\n    environment:\n      - {n}={secret}\n"),
        (f".github/workflows/{word()}.yml", f"jobs:\n  build:\n    env:\n      {n}: {secret}\n"),
        (f"src/{word()}.py", f"# TODO move out of the code\n{n} = \"{secret}\"\n"),
        (f"{word()}.tf", f"variable \"{n.lower()}\" {{\n  default = \"{secret}\"\n}}\n"),
        (f"notes-{word()}.md", f"Use this one for now:\n\n```\n{secret}\n```\n"),
    ]
    name, text = R.choice(forms)
    if R.random() < 0.15:
        text = text.replace("\n", "\r\n")
    return name, text


def block(text, name):
    """A multi-line secret file in a random surrounding."""
    forms = [
        (name, text),
        (f"k8s/{word()}-secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: "
         f"{word()}\nstringData:\n  {os.path.basename(name)}: |\n"
         + "".join("    " + l + "\n" for l in text.splitlines())),
        (f"k8s/{word()}-secret.yml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: "
         f"{word()}\ntype: Opaque\ndata:\n  {os.path.basename(name)}: {b64(text.encode())}\n"),
        (f".gitlab-ci-{word()}.yml", f"variables:\n  KEY_FILE: |\n"
         + "".join("    " + l + "\n" for l in text.splitlines())),
    ]
    return R.choice(forms)


# ---- the cases ----

class Set:
    def __init__(self, out):
        self.out, self.cases = out, []

    def add(self, kind, positive, name, data, expect=(), what=""):
        cid = f"{len(self.cases):04d}-{kind}-{'p' if positive else 'n'}"
        path = os.path.join(self.out, cid, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        self.cases.append(dict(id=cid, kind=kind, positive=positive, name=name,
                               expect=list(expect), what=what))


def gen_age(s):
    for _ in range(6):
        text = sh("age-keygen 2>/dev/null").decode()
        secret = [l for l in text.splitlines() if l.startswith("AGE-SECRET-KEY-1")][0]
        rcpt = sh("age-keygen -y", secret.encode()).decode().strip()
        shape = R.randrange(5)
        if shape == 0:
            s.add("age", True, R.choice(["keys.txt", "age/key.txt", ".config/sops/age/keys.txt"]), text, [rcpt], "keys.txt")
        elif shape == 1:
            sops = (f"creation_rules:\n  - path_regex: secrets/.*\n    age: {rcpt}\n"
                    f"# private: {secret}\n")
            s.add("age", True, ".sops.yaml", sops, [rcpt], "sops comment")
        elif shape == 2:
            key = secret.lower() if R.random() < 0.3 else secret
            s.add("age", True, *one_line(key, ["SOPS_AGE_KEY", "AGE_KEY", "AGE_IDENTITY"]), [rcpt], "one line")
        elif shape == 3:
            s.add("age", True, f"src/{word()}.go", f"// key for tests\nconst identity = \"{secret}\"\n", [rcpt], "go")
        else:
            s.add("age", True, *block(text, "keys.txt"), [rcpt], "block")
        # look-alikes
        neg = R.randrange(4)
        if neg == 0:
            s.add("age", False, ".sops.yaml", f"creation_rules:\n  - age: >-\n      {rcpt},\n      {sh('age-keygen -y', sh('age-keygen 2>/dev/null')).decode().strip()}\n", what="recipients")
        elif neg == 1:
            s.add("age", False, *one_line(flip(secret, 20), ["SOPS_AGE_KEY"]), what="broken checksum")
        elif neg == 2:
            s.add("age", False, "README.md", "Put your identity in keys.txt:\n\n    AGE-SECRET-KEY-1" + "X" * R.randrange(10, 58) + "\n", what="docs")
        else:
            s.add("age", False, "keys.txt.pub", f"# public key: {rcpt}\n{rcpt}\n", what="recipient file")


def gen_wireguard(s):
    for _ in range(6):
        priv = sh("wg genkey").decode().strip()
        pub = sh("wg pubkey", (priv + "\n").encode()).decode().strip()
        peer = sh("wg pubkey", sh("wg genkey")).decode().strip()
        pk = R.choice(["PrivateKey = ", "PrivateKey=", "privatekey = ", "PrivateKey =  "])
        conf = (f"[Interface]\n# {word()} tunnel\nAddress = 10.{R.randrange(255)}.0.1/24\n"
                f"ListenPort = {R.randrange(1024, 65535)}\n{pk}{priv}\n"
                + ("DNS = 1.1.1.1\n" if R.random() < 0.5 else "")
                + f"\n[Peer]\nPublicKey = {peer}\nAllowedIPs = 0.0.0.0/0\nEndpoint = vpn.example.com:51820\n")
        shape = R.randrange(4)
        if shape == 0:
            s.add("wireguard", True, R.choice(["wg0.conf", "wireguard/wg1.conf", "etc/wireguard/home.conf"]), conf, [pub], "wg conf")
        elif shape in (1, 2):
            s.add("wireguard", True, *block(conf, "wg0.conf"), [pub], "wg conf in a block")
        else:
            env = R.choice(["WIREGUARD_PRIVATE_KEY", "WG_PRIVATE_KEY"])
            s.add("wireguard", True, "docker-compose.yml",
                  f"services:\n  vpn:\n    image: qmcgaw/gluetun\n    environment:\n      - VPN_TYPE=wireguard\n      - {env}={priv}\n",
                  [pub], "docker env")
        neg = R.randrange(4)
        if neg == 0:
            s.add("wireguard", False, "wg0.conf", f"[Interface]\nPrivateKey = <contents-of-server-privatekey>\n\n[Peer]\nPublicKey = {peer}\n", what="placeholder")
        elif neg == 1:
            s.add("wireguard", False, "peers.conf", f"[Peer]\nPublicKey = {peer}\nAllowedIPs = 10.0.0.2/32\n\n[Peer]\nPublicKey = {pub}\n", what="peers")
        elif neg == 2:
            s.add("wireguard", False, "wg-show.txt", f"interface: wg0\n  public key: {pub}\n  private key: (hidden)\n  listening port: 51820\n", what="wg show")
        else:
            s.add("wireguard", False, "client.conf", f"[Interface]\nPrivateKey = $(wg genkey)\nAddress = 10.0.0.2/32\n[Peer]\nPublicKey = {pub}\n", what="shell placeholder")


def gen_minisign(s):
    for i in range(4):
        d = tempfile.mkdtemp(dir=WORK)
        enc = i % 2 == 1
        pw = R.choice(["password", "hunter2", word() + str(R.randrange(100))]) + "\n"
        sh(f"minisign -G {'' if enc else '-W'} -p m.pub -s m.key >/dev/null", (pw * 2).encode() if enc else None, cwd=d)
        key = open(f"{d}/m.key").read()
        pub = open(f"{d}/m.pub").read()
        expect = [] if enc else [pub.splitlines()[1]]
        if R.random() < 0.6:
            s.add("minisign", True, R.choice(["minisign.key", ".minisign/minisign.key", f"{word()}.key"]), key, expect, "encrypted" if enc else "clear")
        else:
            s.add("minisign", True, *block(key, "minisign.key"), expect, ("encrypted" if enc else "clear") + " in block")
        # A changed byte shows only in a key in clear (its checksum).
        neg = R.randrange(2 if enc else 3)
        if neg == 0:
            s.add("minisign", False, "minisign.pub", pub, what="public key")
        elif neg == 1:
            open(f"{d}/f", "w").write(word())
            sh("minisign -S -s m.key -m f", pw.encode() if enc else None, cwd=d)
            s.add("minisign", False, "release.tar.gz.minisig", open(f"{d}/f.minisig").read(), what="signature")
        else:
            # Past the 54-byte header, whose KDF limits a key in clear ignores.
            lines = key.splitlines()
            s.add("minisign", False, "minisign.key", lines[0] + "\n" + flip(lines[1], 120) + "\n", what="broken")


def gen_signify(s):
    for i in range(4):
        d = tempfile.mkdtemp(dir=WORK)
        enc = i % 2 == 1
        pw = R.choice(["password", "letmein", word() + str(R.randrange(100))]) + "\n"
        sh(f"signify-openbsd -G {'' if enc else '-n'} -p s.pub -s s.sec", (pw * 2).encode() if enc else None, cwd=d)
        key = open(f"{d}/s.sec").read()
        pub = open(f"{d}/s.pub").read()
        expect = [] if enc else [pub.splitlines()[1]]
        if R.random() < 0.6:
            s.add("signify", True, R.choice([f"{word()}.sec", f"keys/{word()}-base.sec"]), key, expect, "encrypted" if enc else "clear")
        else:
            s.add("signify", True, *block(key, "release.sec"), expect, ("encrypted" if enc else "clear") + " in block")
        neg = R.randrange(2 if enc else 3)
        if neg == 0:
            s.add("signify", False, f"{word()}.pub", pub, what="public key")
        elif neg == 1:
            open(f"{d}/f", "w").write(word())
            sh("signify-openbsd -S -s s.sec -m f -x f.sig", pw.encode() if enc else None, cwd=d)
            s.add("signify", False, "SHA256.sig", open(f"{d}/f.sig").read(), what="signature")
        else:
            lines = key.splitlines()
            s.add("signify", False, "broken.sec", lines[0] + "\n" + flip(lines[1], 60) + "\n", what="broken")


# ---- JWK and XML RSA: key numbers ----

def ib(n, size=None):
    return n.to_bytes(size or max(1, (n.bit_length() + 7) // 8), "big")


def rsa_key():
    return rsa.generate_private_key(65537, R.choice([2048, 2048, 3072]))


def jwk_of(kind):
    """(private JWK dict, public JWK dict, fingerprint)."""
    if kind == "RSA":
        k = rsa_key()
        n = k.private_numbers()
        pub = {"kty": "RSA", "n": b64u(ib(n.public_numbers.n)), "e": b64u(ib(n.public_numbers.e))}
        priv = dict(pub, d=b64u(ib(n.d)), p=b64u(ib(n.p)), q=b64u(ib(n.q)), dp=b64u(ib(n.dmp1)),
                    dq=b64u(ib(n.dmq1)), qi=b64u(ib(n.iqmp)))
        return priv, pub, ssh_fp(k.public_key())
    if kind in ("P-256", "P-384", "P-521", "secp256k1"):
        curve = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1, "secp256k1": ec.SECP256K1}[kind]()
        k = ec.generate_private_key(curve)
        size = (curve.key_size + 7) // 8
        pn = k.public_key().public_numbers()
        pub = {"kty": "EC", "crv": kind, "x": b64u(ib(pn.x, size)), "y": b64u(ib(pn.y, size))}
        priv = dict(pub, d=b64u(ib(k.private_numbers().private_value, size)))
        fp = thumb(pub) if kind == "secp256k1" else ssh_fp(k.public_key())
        return priv, pub, fp
    cls = {"Ed25519": ed25519.Ed25519PrivateKey, "X25519": x25519.X25519PrivateKey,
           "Ed448": ed448.Ed448PrivateKey, "X448": x448.X448PrivateKey}[kind]
    k = cls.generate()
    raw = dict(encoding=ser.Encoding.Raw)
    x = k.public_key().public_bytes(format=ser.PublicFormat.Raw, **raw)
    d = k.private_bytes(format=ser.PrivateFormat.Raw, encryption_algorithm=ser.NoEncryption(), **raw)
    pub = {"kty": "OKP", "crv": kind, "x": b64u(x)}
    fp = ssh_fp(k.public_key()) if kind == "Ed25519" else thumb(pub)
    return dict(pub, d=b64u(d)), pub, fp


def dress(jwk):
    """Extra members and a random member order, as libraries write them."""
    items = list(jwk.items())
    extra = [("kid", f"{word()}-{R.randrange(10**6)}"), ("use", "sig"), ("alg", "RS256" if jwk["kty"] == "RSA" else "ES256")]
    items += R.sample(extra, R.randrange(4))
    R.shuffle(items)
    return dict(items)


def jwk_text(obj, pretty):
    return json.dumps(obj, indent=R.choice([2, 4]) if pretty else None,
                      separators=None if pretty else R.choice([(",", ":"), (", ", ": ")]))


def jwk_surround(priv, pubs):
    shape = R.randrange(7)
    if shape == 0:
        return R.choice(["jwk.json", "private.jwk", "keys/signing.json"]), jwk_text(priv, True) + "\n"
    if shape == 1:
        keys = pubs + [priv]
        R.shuffle(keys)
        return R.choice(["jwks.json", ".well-known/jwks-private.json"]), jwk_text({"keys": keys}, R.random() < 0.5) + "\n"
    if shape == 2:
        line = jwk_text(priv, False)
        return ".env", f"APP={word()}\nJWT_SIGNING_KEY={json.dumps(line)}\n"
    if shape == 3:
        return f".env.{word()}", f"JWK='{jwk_text(priv, False)}'\n"
    if shape == 4:
        return f"config/{word()}.yaml", f"auth:\n  issuer: https://{word()}.example.com\n  signing_key: '{jwk_text(priv, False)}'\n"
    if shape == 5:
        cfg = {"issuer": f"https://{word()}.example.com", "jwks": {"keys": [priv] + pubs}, "ttl": 3600}
        return "oidc-config.json", jwk_text(cfg, True) + "\n"
    return "settings.json", json.dumps({"Jwt": {"Key": jwk_text(priv, False)}}, indent=2) + "\n"


def gen_jwk(s):
    kinds = ["RSA", "RSA", "P-256", "P-384", "P-521", "secp256k1", "Ed25519", "X25519", "Ed448", "X448"]
    for kind in kinds:
        priv, pub, fp = jwk_of(kind)
        s.add("jwk", True, *jwk_surround(dress(priv), []), [fp], kind)
        other, opub, _ = jwk_of(kind)
        neg = R.randrange(4)
        if neg == 0:
            s.add("jwk", False, *jwk_surround(dress(pub), [opub]), what="public only " + kind)
        elif neg == 1:
            s.add("jwk", False, "jwks.json", jwk_text({"keys": [pub, opub]}, R.random() < 0.5), what="public JWKS " + kind)
        elif neg == 2:
            s.add("jwk", False, "example.jwk.json", jwk_text(dict(pub, d=R.choice(["...", "<private>", "${JWK_D}", "REDACTED", ""])), True), what="placeholder d " + kind)
        else:
            s.add("jwk", False, "mixed.json", jwk_text(dict(pub, d=other["d"]), True), what="d of another key " + kind)


def xml_of(k, order=None, indent=False):
    n = k.private_numbers()
    parts = [("Modulus", n.public_numbers.n), ("Exponent", n.public_numbers.e), ("P", n.p), ("Q", n.q),
             ("DP", n.dmp1), ("DQ", n.dmq1), ("InverseQ", n.iqmp), ("D", n.d)]
    if order:
        parts = order(parts)
    sep = "\n  " if indent else ""
    body = "".join(f"{sep}<{t}>{b64(ib(v))}</{t}>" for t, v in parts)
    return f"<RSAKeyValue>{body}{chr(10) if indent else ''}</RSAKeyValue>"


def gen_xml(s):
    for _ in range(5):
        k = rsa_key()
        fp = ssh_fp(k.public_key())
        x = xml_of(k, indent=R.random() < 0.4)
        shape = R.randrange(4)
        if shape == 0:
            s.add("xmlrsa", True, R.choice(["private.xml", "keys/rsa.xml"]), f"<?xml version=\"1.0\"?>\n{x}\n", [fp], "xml")
        elif shape == 1:
            s.add("xmlrsa", True, "appsettings.json", json.dumps({"Signing": {"PrivateKey": xml_of(k)}}, indent=2), [fp], "appsettings")
        elif shape == 2:
            s.add("xmlrsa", True, "web.config", f"<configuration>\n  <appSettings>\n    <add key=\"RsaKey\" value=\"{xml_of(k).replace('<', '&lt;').replace('>', '&gt;')}\" />\n  </appSettings>\n</configuration>\n", [fp], "escaped in web.config")
        else:
            s.add("xmlrsa", True, "App.config", f"<configuration>\n  <signing>\n    {x}\n  </signing>\n</configuration>\n", [fp], "config")
        n = k.private_numbers().public_numbers
        public = f"<RSAKeyValue><Modulus>{b64(ib(n.n))}</Modulus><Exponent>{b64(ib(n.e))}</Exponent></RSAKeyValue>"
        neg = R.randrange(3)
        if neg == 0:
            s.add("xmlrsa", False, "public.xml", public + "\n", what="public")
        elif neg == 1:
            s.add("xmlrsa", False, "appsettings.Development.json", json.dumps({"PrivateKey": "<RSAKeyValue><Modulus>...</Modulus><Exponent>AQAB</Exponent><P>...</P><Q>...</Q><D>...</D></RSAKeyValue>"}), what="placeholder")
        else:
            o = rsa_key().private_numbers()
            mixed = xml_of(k).replace(b64(ib(k.private_numbers().q)), b64(ib(o.q)))
            s.add("xmlrsa", False, "mixed.xml", mixed, what="mismatched")


# ---- Tor, Bitcoin, Nostr, Solana ----

def onion(pub):
    chk = hashlib.sha3_256(b".onion checksum" + pub + b"\x03").digest()[:2]
    return base64.b32encode(pub + chk + b"\x03").decode().lower() + ".onion"


def gen_tor(s):
    for _ in range(4):
        seed = os.urandom(32)
        k = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        pub = k.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
        e = bytearray(hashlib.sha512(seed).digest())
        e[0] &= 248
        e[31] &= 127
        e[31] |= 64
        body = b"== ed25519v1-secret: type0 ==\0\0\0" + bytes(e)
        if R.random() < 0.7:
            s.add("tor", True, R.choice(["hs_ed25519_secret_key", "hidden_service/hs_ed25519_secret_key"]), body, [onion(pub)], "file")
        else:
            s.add("tor", True, "tor-secret.yaml", f"apiVersion: v1\nkind: Secret\ndata:\n  hs_ed25519_secret_key: {b64(body)}\n", [onion(pub)], "k8s")
        if R.random() < 0.5:
            s.add("tor", False, "hs_ed25519_public_key", b"== ed25519v1-public: type0 ==\0\0\0" + pub, what="public")
        else:
            s.add("tor", False, "hostname", onion(pub) + "\n", what="hostname")


def secp(d, compressed=True):
    k = ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256K1())
    fmt = ser.PublicFormat.CompressedPoint if compressed else ser.PublicFormat.UncompressedPoint
    return k.public_key().public_bytes(ser.Encoding.X962, fmt)


VERSIONS = {"xprv": ("0488ade4", "0488b21e"), "tprv": ("04358394", "043587cf"),
            "yprv": ("049d7878", "049d7cb2"), "zprv": ("04b2430c", "04b24746")}


def gen_bitcoin(s):
    for _ in range(8):
        d = os.urandom(32)
        if R.random() < 0.45:
            net, comp = R.choice([(0x80, True), (0x80, False), (0xEF, True)])
            wif = base58check(bytes([net]) + d + (b"\x01" if comp else b""))
            s.add("bitcoin", True, *one_line(wif, ["BTC_WIF", "BITCOIN_PRIVATE_KEY", "WALLET_WIF", "BTC_PRIVKEY"]), [secp(d, comp).hex()], "WIF")
            bad = flip(wif, 10)
        else:
            kind = R.choice(list(VERSIONS))
            prv, pubv = VERSIONS[kind]
            depth = R.choice([0, 3, 4])
            mid = bytes([depth]) + (os.urandom(4) if depth else b"\0" * 4) + (os.urandom(4) if depth else b"\0" * 4)
            chain = os.urandom(32)
            x = base58check(bytes.fromhex(prv) + mid + chain + b"\0" + d)
            xpub = base58check(bytes.fromhex(pubv) + mid + chain + secp(d))
            s.add("bitcoin", True, *one_line(x, ["WALLET_XPRV", "HD_KEY", "MASTER_KEY", "EXTENDED_KEY"]), [xpub], kind)
            bad = flip(x, 20)
        neg = R.randrange(4)
        if neg == 0:
            s.add("bitcoin", False, *one_line(bad, ["BTC_WIF", "WALLET_XPRV"]), what="broken checksum")
        elif neg == 1:
            s.add("bitcoin", False, *one_line(base58check(bytes.fromhex("0488b21e") + os.urandom(9) + os.urandom(32) + secp(os.urandom(32))), ["XPUB"]), what="xpub")
        elif neg == 2:
            addr = base58check(b"\0" + hashlib.sha256(os.urandom(8)).digest()[:20])
            s.add("bitcoin", False, "donate.md", f"Bitcoin: {addr}\n", what="address")
        else:
            rnd = "".join(R.choice(B58) for _ in range(R.choice([51, 52, 111])))
            s.add("bitcoin", False, *one_line(R.choice("5KLcx") + rnd[1:], ["BTC_WIF", "TOKEN"]), what="random base58")


def gen_nostr(s):
    for _ in range(4):
        d = os.urandom(32)
        nsec, npub = bech32("nsec", d), bech32("npub", secp(d)[1:])
        s.add("nostr", True, *one_line(nsec, ["NOSTR_NSEC", "NOSTR_PRIVATE_KEY", "NSEC"]), [npub], "nsec")
        neg = R.randrange(3)
        if neg == 0:
            s.add("nostr", False, *one_line(npub, ["NOSTR_NPUB"]), what="npub")
        elif neg == 1:
            s.add("nostr", False, *one_line(flip(nsec, 10), ["NOSTR_NSEC"]), what="broken")
        else:
            s.add("nostr", False, "event.md", f"see nostr:{bech32('note', os.urandom(32))}\n", what="note id")


def gen_solana(s):
    for _ in range(4):
        seed = os.urandom(32)
        pub = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
        arr = list(seed + pub)
        shape = R.randrange(3)
        if shape == 0:
            s.add("solana", True, R.choice(["id.json", ".config/solana/id.json", f"{word()}-keypair.json"]), json.dumps(arr, separators=(",", ":")), [base58(pub)], "id.json")
        elif shape == 1:
            s.add("solana", True, "deploy-keypair.json", json.dumps(arr, indent=2), [base58(pub)], "pretty")
        else:
            s.add("solana", True, ".env", f"SOLANA_KEYPAIR={json.dumps(arr)}\n", [base58(pub)], "env")
        neg = R.randrange(3)
        if neg == 0:
            bad = arr[:]
            bad[R.randrange(32, 64)] ^= 1 << R.randrange(8)
            s.add("solana", False, "id.json", json.dumps(bad, separators=(",", ":")), what="mismatched halves")
        elif neg == 1:
            s.add("solana", False, "weights.json", json.dumps(list(os.urandom(64))), what="random 64 bytes")
        else:
            s.add("solana", False, "id.json", json.dumps(list(seed)), what="32 bytes")


# ---- keystores and archives ----

def keytool(args, cwd):
    sh("keytool -noprompt " + args + " >/dev/null 2>&1", cwd=cwd)


def cert_fp(d, store, alias, pw, typ):
    pem = sh(f"keytool -exportcert -rfc -alias {alias} -keystore {store} -storepass '{pw}' -storetype {typ} 2>/dev/null", cwd=d)
    from cryptography import x509
    return ssh_fp(x509.load_pem_x509_certificate(pem).public_key())


def gen_keystores(s):
    plans = [("JKS", "release.keystore", "android"), ("JKS", "app.jks", "changeit"),
             ("JCEKS", "store.jceks", "password"), ("PKCS12", "client.p12", "changeit"),
             ("JKS", "debug.keystore", "android"), ("JKS", "server.jks", None),
             ("JCEKS", "secrets.jceks", None), ("PKCS12", "upload.keystore", None)]
    R.shuffle(plans)
    for typ, name, pw in plans[:R.randrange(5, 8)]:
        d = tempfile.mkdtemp(dir=WORK)
        weak = pw is not None
        pw = pw or "".join(R.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(20))
        entries = R.choice([1, 1, 2])
        expect = []
        for i in range(entries):
            alias = R.choice(["androiddebugkey", "upload", "key0", "server", word()]) + str(i)
            alg = R.choice(["RSA -keysize 2048", "EC -groupname secp256r1", "EC -groupname secp384r1"])
            keytool(f"-genkeypair -keyalg {alg} -alias {alias} -dname CN={word()},O=Example "
                    f"-keystore {name} -storetype {typ} -storepass '{pw}' -keypass '{pw}' -validity 9000", d)
            if weak:
                expect.append(cert_fp(d, name, alias, pw, typ))
        if typ == "JCEKS" and R.random() < 0.6:
            keytool(f"-genseckey -keyalg AES -keysize 128 -alias aes -keystore {name} -storetype JCEKS -storepass '{pw}' -keypass '{pw}'", d)
        s.add("keystore", True, name, open(f"{d}/{name}", "rb").read(), expect, f"{typ} {'weak' if weak else 'strong'} x{entries}")
        # a truststore of the same type
        keytool(f"-exportcert -alias {alias} -keystore {name} -storetype {typ} -storepass '{pw}' -file c.der", d)
        tname = R.choice(["truststore.jks", "cacerts", "trust.p12", "truststore.jceks"])
        keytool(f"-importcert -alias ca -file c.der -keystore t -storetype {typ} -storepass changeit", d)
        s.add("keystore", False, tname, open(f"{d}/t", "rb").read(), what=f"{typ} truststore")


def pem_key(d):
    kind = R.choice(["rsa", "ec", "ed25519"])
    cmd = {"rsa": "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048",
           "ec": "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
           "ed25519": "openssl genpkey -algorithm ED25519"}[kind]
    sh(f"{cmd} -out k.pem 2>/dev/null", cwd=d)
    body = open(f"{d}/k.pem", "rb").read()
    public = ser.load_pem_private_key(body, None).public_key()
    pub = public.public_bytes(ser.Encoding.OpenSSH, ser.PublicFormat.OpenSSH) + b" backup\n"
    return body, ssh_fp(public), pub


def pack(kind, members):
    buf = io.BytesIO()
    if kind in ("zip", "jar"):
        with zipfile.ZipFile(buf, "w", R.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])) as z:
            for n, b in members:
                z.writestr(n, b)
    elif kind in ("tar", "tgz"):
        with tarfile.open(fileobj=buf, mode="w:gz" if kind == "tgz" else "w") as t:
            for n, b in members:
                info = tarfile.TarInfo(n)
                info.size = len(b)
                t.addfile(info, io.BytesIO(b))
    else:
        return gzip.compress(members[-1][1])
    return buf.getvalue()


def gen_archives(s):
    for _ in range(6):
        d = tempfile.mkdtemp(dir=WORK)
        kind = R.choice(["zip", "jar", "tar", "tgz", "gz"])
        secret = R.randrange(3)
        if secret == 0:
            body, fp, pub = pem_key(d)
            inner = R.choice(["id_rsa", "deploy/server.key", "certs/tls.key"])
        elif secret == 1:
            text = sh("age-keygen 2>/dev/null")
            fp = sh("age-keygen -y", text).decode().strip()
            body, inner, pub = text, "keys.txt", fp.encode() + b"\n"
        else:
            priv = sh("wg genkey").decode().strip()
            fp = sh("wg pubkey", (priv + "\n").encode()).decode().strip()
            body, inner = f"[Interface]\nPrivateKey = {priv}\n".encode(), "wg0.conf"
            pub = f"[Peer]\nPublicKey = {fp}\n".encode()
        filler = [("README.md", b"# backup\n"), ("app/main.py", b"print('hi')\n" * R.randrange(1, 50))]
        ext = {"zip": "backup.zip", "jar": "app.jar", "tar": "bundle.tar", "tgz": "release.tgz", "gz": inner.split("/")[-1] + ".gz"}[kind]
        s.add("archive", True, ext, pack(kind, filler + [(inner, body)]), [fp], f"{kind} {inner}")
        s.add("archive", False, ext, pack(kind, filler + [(inner + ".pub", pub)]), what=f"{kind} public only")


GENERATORS = [gen_age, gen_wireguard, gen_minisign, gen_signify, gen_jwk, gen_xml, gen_tor,
              gen_bitcoin, gen_nostr, gen_solana, gen_keystores, gen_archives]


# ---- scan and score ----

def scan(out):
    p = subprocess.run([os.environ["KEYSCAN"], "scan", "--no-ignore", "--format", "json", "."],
                       cwd=out, capture_output=True)
    if p.returncode not in (0, 1):
        sys.exit(f"heldout: keyscan failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    found = collections.defaultdict(list)
    for f in json.loads(p.stdout)["findings"]:
        found[f["path"].removeprefix("./").split("/")[0]].append(f)
    return found


def score(cases, found, keep):
    per = collections.defaultdict(lambda: collections.Counter())
    misses = []
    for c in cases:
        fs = found.get(c["id"], [])
        blocking = [f for f in fs if f.get("blocking")]
        shown = {v for f in blocking for v in (f.get("fingerprint"), f.get("public_key")) if v}
        t = per[c["kind"]]
        if c["positive"]:
            ok = bool(blocking) and all(e in shown for e in c["expect"])
            t["tp" if ok else "fn"] += 1
            if not ok:
                why = "wrong or missing fingerprint" if blocking else ("unverified" if fs else "not found")
                misses.append(f"miss  {c['id']}  {c['what']}  {c['name']}: {why}")
        else:
            t["fp" if blocking else "tn"] += 1
            t["unverified"] += 0 if blocking else int(bool(fs))
            if blocking:
                misses.append(f"false {c['id']}  {c['what']}  {c['name']}: {[f['rule'] for f in blocking]}")
    return per, misses


def pct(a, b):
    return f"{100 * a / b:5.1f}%" if b else "    -"


def report(per):
    tot = collections.Counter()
    print(f"{'kind':<10} {'pos':>4} {'found':>5} {'recall':>7} {'neg':>4} {'false+':>6} {'precision':>9}  unverified negatives")
    for kind in sorted(per):
        t = per[kind]
        tot.update(t)
        print(f"{kind:<10} {t['tp'] + t['fn']:>4} {t['tp']:>5} {pct(t['tp'], t['tp'] + t['fn']):>7} "
              f"{t['fp'] + t['tn']:>4} {t['fp']:>6} {pct(t['tp'], t['tp'] + t['fp']):>9}  {t['unverified']}")
    t = tot
    print(f"{'overall':<10} {t['tp'] + t['fn']:>4} {t['tp']:>5} {pct(t['tp'], t['tp'] + t['fn']):>7} "
          f"{t['fp'] + t['tn']:>4} {t['fp']:>6} {pct(t['tp'], t['tp'] + t['fp']):>9}  {t['unverified']}")
    return t


def main():
    global WORK
    ap = argparse.ArgumentParser(description="held-out recall and precision (see scripts/heldout)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--keep")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(10**9)
    R.seed(seed)
    base = a.keep or tempfile.mkdtemp(prefix="keyscan-heldout.")
    if a.keep:
        shutil.rmtree(base, ignore_errors=True)
    out, WORK = os.path.join(base, "set"), os.path.join(base, "work")
    os.makedirs(out), os.makedirs(WORK)
    try:
        s = Set(out)
        for _ in range(a.rounds):
            for g in GENERATORS:
                g(s)
        print(f"heldout: seed {seed}, {len(s.cases)} cases, keyscan {os.environ['KEYSCAN']}")
        per, misses = score(s.cases, scan(out), a.keep)
        t = report(per)
        for m in misses:
            print(m)
        if a.keep:
            with open(os.path.join(base, "cases.json"), "w") as f:
                json.dump(s.cases, f, indent=1)
            print(f"set kept in {out}")
        recall = t["tp"] / max(1, t["tp"] + t["fn"])
        precision = t["tp"] / max(1, t["tp"] + t["fp"])
        ok = recall >= 0.95 and precision >= 0.98
        print(f"overall recall {100 * recall:.1f}% precision {100 * precision:.1f}% "
              f"(target >= 95% / >= 98%): {'met' if ok else 'NOT met'}")
        sys.exit(0 if ok else 1)
    finally:
        if not a.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
