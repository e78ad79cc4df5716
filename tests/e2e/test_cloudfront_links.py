"""SendReport's CloudFront signed links held to an independent implementation:
the same URL and expiry signed by `s3la sign-cloudfront-url` (the Rust signer
SendReport uses) and by botocore's CloudFrontSigner, over an RSA key made
here with `cryptography`; the signature verifies over the canned policy with
the public key, and a tampered one does not."""

import base64
import datetime
import urllib.parse

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import run

KEY_PAIR_ID = "K2JCJMDEHXQW5F"
URL = "https://d111111abcdef8.cloudfront.net/s3la/2024-02-28_2024-02-29/requests-2024-02-28_2024-02-29.csv.gz"
EXPIRES = datetime.datetime(2024, 3, 12, 6, 0, 7, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def botocore_url(key, url, expires):
    signer = CloudFrontSigner(
        KEY_PAIR_ID, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()))
    return signer.generate_presigned_url(url, date_less_than=expires)


def rust_url(s3la, pem_file, url, expires):
    p = run(s3la, "sign-cloudfront-url", "--url", url, "--expires", int(expires.timestamp()),
            "--key-pair-id", KEY_PAIR_ID, "--private-key", pem_file)
    return p.stdout.strip()


def unsafe_b64decode(s):
    return base64.b64decode(s.replace("-", "+").replace("_", "=").replace("~", "/"))


@pytest.mark.parametrize("encoding", [
    serialization.PrivateFormat.TraditionalOpenSSL,  # BEGIN RSA PRIVATE KEY
    serialization.PrivateFormat.PKCS8,  # BEGIN PRIVATE KEY (OpenSSL 3's default)
])
def test_the_rust_signer_matches_botocore(s3la, key, tmp_path, encoding):
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, encoding,
                                      serialization.NoEncryption()))
    for url in (URL, URL + "?response-content-type=text%2Fcsv"):
        got = rust_url(s3la, pem, url, EXPIRES)
        assert got == botocore_url(key, url, EXPIRES)
        assert f"Expires={int(EXPIRES.timestamp())}&" in got and got.endswith(f"&Key-Pair-Id={KEY_PAIR_ID}")


def test_the_signature_verifies_and_a_tampered_one_does_not(s3la, key, tmp_path):
    pem = tmp_path / "key.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    signed = rust_url(s3la, pem, URL, EXPIRES)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(signed).query))
    policy = ('{"Statement":[{"Resource":"%s","Condition":{"DateLessThan":{"AWS:EpochTime":%d}}}]}'
              % (URL, int(EXPIRES.timestamp()))).encode()
    signature = unsafe_b64decode(params["Signature"])
    public = key.public_key()
    public.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(InvalidSignature):
        public.verify(tampered, policy, padding.PKCS1v15(), hashes.SHA1())
    # Nor does the genuine signature cover a later expiry or another object.
    for other in (policy.replace(b"%d" % int(EXPIRES.timestamp()), b"%d" % (int(EXPIRES.timestamp()) + 86400)),
                  policy.replace(b"requests-", b"other-")):
        with pytest.raises(InvalidSignature):
            public.verify(signature, other, padding.PKCS1v15(), hashes.SHA1())


def test_an_unreadable_key_is_refused_without_printing_it(s3la, tmp_path):
    pem = tmp_path / "key.pem"
    pem.write_text("-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0\n-----END RSA PRIVATE KEY-----\n")
    p = run(s3la, "sign-cloudfront-url", "--url", URL, "--expires", 1, "--key-pair-id",
            KEY_PAIR_ID, "--private-key", pem, check=False)
    assert p.returncode != 0 and "PKCS#1" in p.stderr and "c2VjcmV0" not in p.stderr
